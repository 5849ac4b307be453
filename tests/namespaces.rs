//! The public surface: the main path at the crate root, the rest in modules named for what
//! they are, and the root paths of earlier versions still compiling (same types).

use std::any::TypeId;

fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

#[test]
fn each_namespace_names_the_types_of_the_old_root_paths() {
    assert!(same::<dunning::bulk::Schedule<'static>, dunning::Schedule<'static>>());
    assert!(same::<dunning::bulk::Portfolio, dunning::Portfolio>());
    assert!(same::<
        dunning::bulk::EventRef<'static, 'static>,
        dunning::EventRef<'static, 'static>,
    >());
    assert!(same::<dunning::plan::Why, dunning::Why>());
    assert!(same::<dunning::plan::PlanDiff, dunning::PlanDiff>());
    assert!(same::<
        dunning::plan::SuppressReasonKind,
        dunning::SuppressReasonKind,
    >());
    assert!(same::<dunning::policy::ClientOverrides, dunning::ClientOverrides>());
    assert!(same::<
        dunning::policy::EffectiveSettings,
        dunning::EffectiveSettings,
    >());
    assert!(same::<dunning::policy::Origin, dunning::Origin>());
    assert!(same::<dunning::model::Pause, dunning::Pause>());
    assert!(same::<dunning::model::HistoryOutcome, dunning::HistoryOutcome>());
    assert!(same::<dunning::dispatch::Skip, dunning::Skip>());
    assert!(same::<dunning::dispatch::TickReport, dunning::TickReport>());
    assert!(same::<dunning::clock::ManualClock, dunning::ManualClock>());
    assert!(same::<dunning::store::Action, dunning::Action>());
    assert!(same::<dunning::store::Snapshot, dunning::Snapshot>());
    assert!(same::<dunning::memory::MemoryStore, dunning::MemoryStore>());
    assert!(same::<dunning::mailer::MailError, dunning::MailError>());
    assert!(same::<dunning::message::Message, dunning::Message>());
    assert!(same::<dunning::time::Shift, dunning::Shift>());
    assert!(same::<dunning::statement::StatementRule, dunning::StatementRule>());
    assert!(same::<dunning::standing::StandingRule, dunning::StandingRule>());
    assert!(same::<dunning::reminders::NewReminder, dunning::NewReminder>());
    assert!(same::<dunning::load::LoadError, dunning::LoadError>());
}
