//! Issue 13, finding 7: `up --write-profile` turned a 0600 credentials file into 0644, and the
//! state directory, `state.json`, `engine.log` and the journals were readable by every local
//! user. Through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::up_support::Setup;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn up_keeps_credentials_private_and_its_own_files_owner_only() {
    let setup = Setup::new();
    let aws = setup.dir.path().join("aws");
    std::fs::create_dir_all(&aws).expect("mkdir");
    std::fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = AKIAREAL\n",
    )
    .expect("credentials");
    std::fs::set_permissions(aws.join("credentials"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::fs::write(aws.join("config"), "[default]\nregion = eu-west-1\n").expect("config");
    std::fs::set_permissions(aws.join("config"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let data = setup.dir.path().join("data");
    setup.up_ok(&[
        "--backend",
        "embedded",
        "--port",
        "0",
        "--write-profile",
        "kl",
        "--persist",
        data.to_str().expect("utf8"),
    ]);
    assert_eq!(mode(&aws.join("credentials")), 0o600, "credentials keep 0600");
    assert_eq!(mode(&aws.join("config")), 0o644, "config keeps its mode");
    let creds = std::fs::read_to_string(aws.join("credentials")).expect("read");
    assert!(creds.contains("[kl]"), "{creds}");

    assert_eq!(mode(&setup.state_dir), 0o700);
    assert_eq!(mode(&setup.state_dir.join("state.json")), 0o600);
    assert_eq!(mode(&setup.state_dir.join("engine.log")), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("kinesis.journal")), 0o600);
    assert_eq!(mode(&data.join("dynamodb.journal")), 0o600);
}

#[test]
fn a_new_credentials_file_is_created_0600() {
    let setup = Setup::new();
    setup.up_ok(&["--backend", "embedded", "--port", "0", "--write-profile", "kl"]);
    let aws = setup.dir.path().join("aws");
    assert_eq!(mode(&aws), 0o700);
    assert_eq!(mode(&aws.join("credentials")), 0o600);
    assert_eq!(mode(&aws.join("config")), 0o600);
}
