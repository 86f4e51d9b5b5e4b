//! The committed completions in `completions/` are exactly what the binary generates.

use crate::support::kinlocal;

const SHELLS: &[(&str, &str)] = &[
    ("bash", "kinlocal.bash"),
    ("zsh", "_kinlocal"),
    ("fish", "kinlocal.fish"),
    ("powershell", "_kinlocal.ps1"),
    ("elvish", "kinlocal.elv"),
];

#[test]
fn committed_completions_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let regenerate = std::env::var_os("KINLOCAL_REGENERATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = kinlocal().args(["completions", shell]).output().expect("runs");
        assert!(out.status.success(), "completions {shell} failed");
        assert!(!out.stdout.is_empty(), "completions {shell} printed nothing");
        let path = dir.join(file);
        if regenerate {
            std::fs::create_dir_all(&dir).expect("mkdir completions");
            std::fs::write(&path, &out.stdout).expect("write completions");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != out.stdout {
            stale.push(file.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "completions out of date: {stale:?}; run `KINLOCAL_REGENERATE_COMPLETIONS=1 cargo test --test it committed_completions_are_current`"
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    kinlocal().args(["completions", "tcsh"]).assert().code(2);
}
