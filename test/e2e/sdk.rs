//! Loading the system SDK (issue "The real Virtuozzo SDK"): libraries that
//! are not a usable SDK, built at test time from C with `cc -shared`: one
//! lacking a function, one whose PrlApi_InitEx fails, one whose every
//! function only returns 0.

use crate::harness::*;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use virtvzd::sdk::table::FUNCTION_NAMES;

/// A shared library exporting every SDK function of the table but
/// `omit`, each returning `init_rc` if it is PrlApi_InitEx, else 0.
fn stub_sdk(dir: &TempDir, name: &str, omit: Option<&str>, init_rc: &str) -> PathBuf {
    let mut c = String::new();
    for f in FUNCTION_NAMES.iter().filter(|f| Some(**f) != omit) {
        let rc = if *f == "PrlApi_InitEx" { init_rc } else { "0" };
        c.push_str(&format!("long {f}(void) {{ return {rc}; }}\n"));
    }
    let src = dir.join(&format!("{name}.c"));
    fs::write(&src, c).unwrap();
    let lib = dir.join(&format!("{name}.so"));
    let out = run_cmd(
        Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&lib)
            .arg(&src),
        Duration::from_secs(60),
    );
    assert!(out.ok(), "cc is needed to build the stub SDKs: {out:?}");
    lib
}

fn sdk_config(choice: &str, lib: &std::path::Path) -> String {
    format!(
        "vz_sdk = \"{choice}\"\nvz_sdk_library = \"{}\"\n",
        lib.display()
    )
}

#[test]
fn a_missing_function_stops_system_and_auto_falls_back() {
    let tmp = TempDir::new("stub");
    let lib = stub_sdk(&tmp, "libprl_nopasswd", Some("PrlVm_SetUserPasswd"), "0");

    let d = Daemon::prepare(&sdk_config("system", &lib));
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "vz_sdk = \"system\": {} is not a usable Virtuozzo SDK: it lacks 1 of its functions: PrlVm_SetUserPasswd",
            lib.display()
        )),
        "{out:?}"
    );
    assert!(!d.rw().exists());

    let d = Daemon::start_with(Setup {
        config: &sdk_config("auto", &lib),
        ..Setup::default()
    });
    d.virsh(&["define", &fixture("vm-basic.xml")]).expect_ok();
    assert_eq!(
        d.virsh(&["list", "--all", "--name"]).expect_ok().trim(),
        "vm-basic"
    );
    let log = d.log_text();
    assert!(
        log.contains("lacks 1 of its functions: PrlVm_SetUserPasswd; using the embedded host"),
        "{log}"
    );
}

#[test]
fn an_sdk_that_does_not_start_stops_system_and_auto_falls_back() {
    let tmp = TempDir::new("stub");
    // PRL_ERR_API_INCOMPATIBLE: the library's API is older than 7.0.
    let lib = stub_sdk(&tmp, "libprl_old", None, "0x80000422");
    let d = Daemon::prepare(&sdk_config("system", &lib));
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("does not start: PrlApi_InitEx failed (0x80000422)"),
        "{out:?}"
    );

    let d = Daemon::start_with(Setup {
        config: &sdk_config("auto", &lib),
        ..Setup::default()
    });
    d.virsh(&["list", "--all"]).expect_ok();
    assert!(
        d.log_text()
            .contains("PrlApi_InitEx failed (0x80000422); using the embedded host"),
        "{}",
        d.log_text()
    );
}

#[test]
fn a_missing_library_is_named_and_auto_says_it_uses_the_embedded_host() {
    let d =
        Daemon::prepare("vz_sdk = \"system\"\nvz_sdk_library = \"/nonexistent/libprl_sdk.so.7\"\n");
    let out = run_cmd(&mut d.command(&[]), Duration::from_secs(20));
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("vz_sdk = \"system\": cannot load /nonexistent/libprl_sdk.so.7: "),
        "{out:?}"
    );
    let d = Daemon::start_with(Setup {
        config:
            "vz_sdk = \"auto\"\nvz_sdk_library = \"/nonexistent/libprl_sdk.so.7\"\nlog_level = 2\n",
        ..Setup::default()
    });
    d.virsh(&["list", "--all"]).expect_ok();
    assert!(
        d.log_text()
            .contains("vz_sdk = \"auto\": cannot load /nonexistent/libprl_sdk.so.7"),
        "{}",
        d.log_text()
    );
}

#[test]
fn a_library_that_answers_nothing_gives_errors_not_crashes() {
    let tmp = TempDir::new("stub");
    // Every function "succeeds" and hands out no handle at all.
    let lib = stub_sdk(&tmp, "libprl_hollow", None, "0");
    let d = Daemon::start_with(Setup {
        config: &format!("{}log_level = 2\n", sdk_config("system", &lib)),
        ..Setup::default()
    });
    assert!(
        d.log_text().contains(&format!(
            "Virtuozzo SDK {} loaded (API version 7.0)",
            lib.display()
        )),
        "{}",
        d.log_text()
    );
    let out = d.virsh(&["list", "--all"]);
    assert!(!out.ok());
    assert!(
        out.stderr
            .contains("internal error: cannot log in to the Virtuozzo host: PrlSrv_Create failed"),
        "{out:?}"
    );
    // The daemon still serves what does not need the host.
    d.virsh(&["hostname"]).expect_ok();
}
