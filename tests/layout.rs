//! The crate's layering, read from its sources: data flows one way, model and policy into
//! the planner, the planner into messages, all of them into the shell. The model reads
//! nothing of the policy or the planner; nothing but the shell does I/O through the shell.

use std::path::{Path, PathBuf};

/// The `.rs` files under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code lines (not comments) of the files of `module` that name one of `forbidden`.
fn uses(module: &str, forbidden: &[&str]) -> (usize, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let dir = root.join(module);
    let files = if dir.is_dir() {
        sources(&dir)
    } else {
        vec![root.join(format!("{module}.rs"))]
    };
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    (files.len(), found)
}

#[test]
fn the_model_never_imports_the_policy_the_planner_messages_or_the_shell() {
    let (files, found) = uses(
        "model",
        &[
            "crate::policy",
            "crate::plan",
            "crate::message",
            "crate::shell",
            "crate::dispatch",
            "crate::store",
            "crate::Policy",
            "crate::ClientOverrides",
        ],
    );
    assert!(files >= 5, "the model's files were not found ({files})");
    assert!(
        found.is_empty(),
        "the model imports what it must not:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_below_the_shell_imports_it() {
    for module in [
        "model",
        "policy",
        "plan",
        "message",
        "money",
        "time",
        "statement",
        "standing",
    ] {
        let (files, found) = uses(
            module,
            &[
                "crate::shell",
                "crate::dispatch",
                "crate::store",
                "crate::mailer",
                "crate::clock",
                "crate::memory",
                "std::fs",
                "std::net",
                "SystemTime::now",
                "Utc::now",
            ],
        );
        assert!(files >= 1, "{module}: no files found");
        assert!(
            found.is_empty(),
            "{module} reaches the shell or does I/O:\n{}",
            found.join("\n")
        );
    }
}
