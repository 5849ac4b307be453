//! Clients and items checked and indexed once, to be planned many times.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{InputIndex, InputIndexRef, PlanJob, Planner};
use crate::error::ValidationError;
use crate::model::client::Client;
use crate::model::history::HistoryEntry;
use crate::model::item::Item;
use crate::plan::schedule::Inputs;
use crate::plan::{Horizon, Plan, Schedule};

/// Clients and items that a [`Planner`] has checked and indexed, to plan as often as needed
/// without checking or indexing them again.
///
/// [`Planner::plan`] and [`Planner::schedule`] check their inputs (unique ids, known
/// clients, valid items and clients) and index them on every call; for a large portfolio that
/// is a fifth of a plan. A host that plans the same clients and items many times (each day of
/// a month replayed, the forecast of a dashboard at several instants, a plan after each batch
/// of history) makes a portfolio once with [`Planner::portfolio`] and plans it with
/// [`Portfolio::plan`] or [`Portfolio::schedule`]: the same plans, in the same order, byte for
/// byte. The clients and items are borrowed, so they cannot change under it; a change means a
/// new portfolio. A portfolio is `Send` and `Sync`: threads can plan it at once.
///
/// # Example
/// ```
/// use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
/// use dunning::*;
///
/// let policy = Policy::new(TimeZone::from_name("America/Santiago")?)
///     .with_rule(Rule::new("overdue".parse()?, Anchor::Due, 0).repeat(7, 3));
/// let planner = Planner::new(&policy)?;
/// let clp = Currency::from_code("CLP")?;
/// let clients = [Client::new("acme".parse()?, "ACME SpA").with_contact(Contact::new("Ana", "ana@acme.cl"))];
/// let issued = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let items = [Item::invoice("F-1".parse()?, "acme".parse()?, issued, Money::parse("119000", clp)?)];
///
/// // Checked and indexed once...
/// let portfolio = planner.portfolio(&clients, &items)?;
/// let first = Utc.with_ymd_and_hms(2026, 4, 1, 13, 0, 0).unwrap(); // 10:00 in Santiago
/// let mut history = Vec::new();
/// // ...then planned for each day of a month, each day's sends recorded.
/// for day in 0..30 {
///     let now = first + Duration::days(day);
///     let plan = portfolio.plan(&history, now, Horizon::NONE)?;
///     assert_eq!(plan, planner.plan(&clients, &items, &history, now, Horizon::NONE)?);
///     history.extend(plan.due().iter().map(|e| e.to_history(now)));
/// }
/// let keys: Vec<&str> = history.iter().map(|h| h.key.as_str()).collect();
/// assert_eq!(keys, ["overdue/F-1/1", "overdue/F-1/2", "overdue/F-1/3"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Portfolio<'a> {
    planner: &'a Planner,
    clients: &'a [Client],
    items: &'a [Item],
    indexed: InputIndex<'a>,
}

impl Planner {
    /// Checks `clients` and `items` as [`Planner::plan`] does and indexes them for planning,
    /// once: see [`Portfolio`].
    ///
    /// # Errors
    /// As [`Planner::check`]: the first invalid input, in id order.
    pub fn portfolio<'a>(
        &'a self,
        clients: &'a [Client],
        items: &'a [Item],
    ) -> Result<Portfolio<'a>, ValidationError> {
        Ok(Portfolio {
            planner: self,
            clients,
            items,
            indexed: self.index_inputs(clients, items)?,
        })
    }
}

impl<'a> Portfolio<'a> {
    /// The plan [`Planner::plan`] makes of these clients and items.
    ///
    /// # Errors
    /// A horizon longer than [`MAX_HORIZON_DAYS`](crate::limits::MAX_HORIZON_DAYS), or more
    /// history entries than 32 bits count.
    pub fn plan(
        &self,
        history: &[HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<Plan, ValidationError> {
        self.planner.plan_job(self.job(history, now, horizon)?)
    }

    /// The schedule [`Planner::schedule`] makes of these clients and items.
    ///
    /// # Errors
    /// As [`Portfolio::plan`].
    pub fn schedule(
        &self,
        history: &'a [HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<Schedule<'a>, ValidationError> {
        self.planner.run(self.job(history, now, horizon)?)
    }

    /// A plan's job on this index.
    fn job<'x, 'h>(
        &'h self,
        history: &'x [HistoryEntry],
        now: DateTime<Utc>,
        horizon: Horizon,
    ) -> Result<PlanJob<'x, 'h>, ValidationError>
    where
        'a: 'x,
    {
        let planner = self.planner;
        Ok(PlanJob {
            end: planner.check_run(history, now, horizon)?,
            inputs: Inputs {
                planner,
                clients: self.clients,
                items: self.items,
                history,
            },
            indexed: InputIndexRef::Shared(&self.indexed),
            hist: planner.history_of(self.clients, self.items, &self.indexed, history),
            now,
            horizon,
        })
    }

    /// The planner that checked them.
    #[must_use]
    pub fn planner(&self) -> &'a Planner {
        self.planner
    }

    /// The clients, as given.
    #[must_use]
    pub fn clients(&self) -> &'a [Client] {
        self.clients
    }

    /// The items, as given.
    #[must_use]
    pub fn items(&self) -> &'a [Item] {
        self.items
    }
}

impl fmt::Debug for Portfolio<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Portfolio")
            .field("clients", &self.clients.len())
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone as _};

    use super::*;
    use crate::model::client::Contact;
    use crate::money::{Currency, Money};
    use crate::policy::{Anchor, Policy, Rule};
    use crate::time::TimeZone;

    fn inputs() -> (Planner, Vec<Client>, Vec<Item>) {
        let policy = Policy::new(TimeZone::UTC)
            .with_rule(Rule::new("soon".parse().unwrap(), Anchor::Due, -3))
            .with_rule(Rule::new("late".parse().unwrap(), Anchor::Due, 2).repeat(5, 3));
        let clp = Currency::from_code("CLP").unwrap();
        let clients: Vec<Client> = ["b", "a"]
            .iter()
            .map(|c| Client::new(c.parse().unwrap(), *c).with_contact(Contact::new("X", format!("x@{c}.cl"))))
            .collect();
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let items = (1..=6u32)
            .map(|i| {
                let client = if i % 2 == 0 { "a" } else { "b" };
                Item::invoice(
                    format!("F-{}", 7 - i).parse().unwrap(),
                    client.parse().unwrap(),
                    day(i),
                    Money::from_minor(1000, clp),
                )
            })
            .collect();
        (Planner::new(&policy).unwrap(), clients, items)
    }

    #[test]
    fn a_portfolio_plans_as_the_planner_does_at_every_instant() {
        let (planner, clients, items) = inputs();
        let portfolio = planner.portfolio(&clients, &items).unwrap();
        assert_eq!(format!("{portfolio:?}"), "Portfolio { clients: 2, items: 6, .. }");
        let mut history = Vec::new();
        let mut sent = 0;
        for day in 0..60 {
            let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::days(day);
            for horizon in [Horizon::NONE, Horizon::days(10)] {
                let plan = portfolio.plan(&history, now, horizon).unwrap();
                assert_eq!(
                    plan,
                    planner.plan(&clients, &items, &history, now, horizon).unwrap()
                );
                let schedule = portfolio.schedule(&history, now, horizon).unwrap();
                assert_eq!(schedule.to_plan(), plan);
            }
            // What each day sends is history the next day plans with.
            let plan = portfolio.plan(&history, now, Horizon::NONE).unwrap();
            sent += plan.due().len();
            history.extend(plan.due().iter().map(|e| e.to_history(now)));
        }
        // Each item: "soon" once, "late" three times.
        assert_eq!(sent, 6 * 4);
    }

    #[test]
    fn a_portfolio_plans_on_several_threads_at_once() {
        fn shared<T: Send + Sync>(_: &T) {}
        let (planner, clients, items) = inputs();
        let portfolio = planner.portfolio(&clients, &items).unwrap();
        shared(&portfolio);
        let at = |day: i64| Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::days(day);
        let plans: Vec<Plan> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|day| {
                    let portfolio = &portfolio;
                    s.spawn(move || portfolio.plan(&[], at(day * 10), Horizon::days(7)).unwrap())
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        assert_eq!(plans.len(), 4);
        for (day, plan) in (0..4).zip(&plans) {
            assert_eq!(
                plan,
                &planner
                    .plan(&clients, &items, &[], at(day * 10), Horizon::days(7))
                    .unwrap()
            );
        }
        assert!(plans.iter().any(|p| !p.due().is_empty()));
    }

    #[test]
    fn a_portfolio_is_refused_as_a_plan_is_and_refuses_what_a_plan_refuses() {
        let (planner, clients, mut items) = inputs();
        items.push(items[0].clone());
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let refused = planner.portfolio(&clients, &items).unwrap_err();
        assert_eq!(
            refused,
            planner
                .plan(&clients, &items, &[], now, Horizon::NONE)
                .unwrap_err()
        );
        assert!(
            matches!(refused, ValidationError::DuplicateId { kind: "item", .. }),
            "{refused:?}"
        );
        items.pop();
        let portfolio = planner.portfolio(&clients, &items).unwrap();
        let end = DateTime::<Utc>::MAX_UTC;
        let over = Horizon::days(crate::limits::MAX_HORIZON_DAYS + 1);
        assert_eq!(
            portfolio.plan(&[], end, over).unwrap_err(),
            planner.plan(&clients, &items, &[], end, over).unwrap_err()
        );
        assert!(portfolio.schedule(&[], end, over).is_err());
        // A horizon past the end of time plans up to it, as a plan does.
        assert_eq!(
            portfolio.plan(&[], end, Horizon::days(1)).unwrap(),
            planner
                .plan(&clients, &items, &[], end, Horizon::days(1))
                .unwrap()
        );
        assert_eq!(portfolio.clients().len(), 2);
        assert_eq!(portfolio.items().len(), 6);
        assert!(std::ptr::eq(portfolio.planner(), &planner));
    }
}
