//! The operator commands of the binary.
// Test helpers outside #[test] functions may fail the test by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iic_domain::authz::{self, AuthorizationContext};
use iic_domain::crypto::{MasterKey, Sealer};
use std::process::Command;

fn iic() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iic"))
}

#[test]
fn decode_authorization_message_reveals_the_denial_to_the_key_holder_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let master = MasterKey::generate();
    let sealer = Sealer::new(&master.derive("iic/authorization-message"));
    let ctx = AuthorizationContext {
        request_id: "0123456789abcdef0123456789abcdef".into(),
        account_id: "b".repeat(32),
        access_key: "MEMBERKEY".into(),
        action: "IdentityCenter:instance:list".into(),
        method: "GET".into(),
        path: "/v1/instances".into(),
        reason: "not the management account".into(),
        time: 1,
        policy: None,
    };
    let blob = authz::encode(&sealer, &ctx);

    let out = iic()
        .args(["decode-authorization-message", &blob])
        .env("IIC_MASTER_KEY", master.to_hex())
        .env("IIC_DATA_DIR", dir.path())
        .output()
        .expect("run iic");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(decoded["access_key"], "MEMBERKEY");
    assert_eq!(decoded["action"], "IdentityCenter:instance:list");
    assert_eq!(decoded["reason"], "not the management account");

    let out = iic()
        .args(["decode-authorization-message", &blob])
        .env("IIC_MASTER_KEY", MasterKey::generate().to_hex())
        .env("IIC_DATA_DIR", dir.path())
        .output()
        .expect("run iic");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("master key"));
}

#[test]
fn serve_refuses_a_bad_configuration_with_a_clear_message() {
    let out = iic()
        .args(["serve", "--log-format", "xml"])
        .env_remove("IIC_CONFIG")
        .output()
        .expect("run iic");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("log_format"));
}
