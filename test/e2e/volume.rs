//! `<filesystem type='volume'>`: resolved at define by Debian's libvirtd,
//! run unprivileged on a scratch socket serving `storage:///session` with
//! a dir pool holding a ploop volume and a raw file.

use crate::harness::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The uid libvirtd runs as when the tests are root.
const NOBODY: u32 = 65534;

/// A libvirtd serving its storage driver on a private socket.
struct Libvirtd {
    child: Child,
    sock: PathBuf,
}

impl Drop for Libvirtd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Libvirtd {
    fn start(base: &Path) -> Libvirtd {
        let run = base.join("run");
        for sub in ["run", "home", "runtime", "config", "cache", "data"] {
            fs::create_dir_all(base.join(sub)).unwrap();
        }
        let conf = base.join("libvirtd.conf");
        fs::write(
            &conf,
            format!(
                "unix_sock_dir = \"{}\"\nauth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\nunix_sock_rw_perms = \"0777\"\n",
                run.display()
            ),
        )
        .unwrap();
        let mut cmd = if is_root() {
            let st = Command::new("chown")
                .args(["-R", &format!("{NOBODY}:{NOBODY}")])
                .arg(base)
                .status()
                .unwrap();
            assert!(st.success());
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                "/usr/sbin/libvirtd",
            ]);
            c
        } else {
            Command::new("/usr/sbin/libvirtd")
        };
        cmd.arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(base.join("libvirtd.pid"))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", base.join("home"))
            .env("XDG_RUNTIME_DIR", base.join("runtime"))
            .env("XDG_CONFIG_HOME", base.join("config"))
            .env("XDG_CACHE_HOME", base.join("cache"))
            .env("XDG_DATA_HOME", base.join("data"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(base.join("libvirtd.log")).unwrap());
        let child = cmd.spawn().expect("start /usr/sbin/libvirtd");
        let l = Libvirtd {
            child,
            sock: run.join("libvirt-sock"),
        };
        wait_until("libvirtd answers", Duration::from_secs(60), || {
            virsh(&l.uri(), &["pool-list", "--all"]).ok()
        });
        l
    }

    fn uri(&self) -> String {
        format!("storage:///session?socket={}", self.sock.display())
    }

    fn virsh(&self, args: &[&str]) -> Out {
        virsh(&self.uri(), args)
    }
}

fn ct_with(pool: &str, volume: &str) -> String {
    format!(
        "<domain type='vz'><name>ct-vol</name><memory unit='GiB'>1</memory><vcpu>1</vcpu>\
         <os><type>exe</type></os><devices>\
         <filesystem type='volume'><driver type='ploop' format='ploop'/>\
         <source pool='{pool}' volume='{volume}'/><target dir='/data'/></filesystem>\
         </devices></domain>"
    )
}

/// Defines `xml`; returns virsh's outcome.
fn define(d: &Daemon, dir: &Path, xml: &str) -> Out {
    let f = dir.join("ct.xml");
    fs::write(&f, xml).unwrap();
    d.virsh(&["define", f.to_str().unwrap()])
}

#[test]
fn volume_filesystems_are_resolved_by_the_storage_driver() {
    let scratch = TempDir::new("vol");
    let base = scratch.join("libvirtd");
    let pool = base.join("pool");
    // A ploop volume: libvirt's dir pool takes a directory holding
    // DiskDescriptor.xml and a root.hds that starts with ploop's magic.
    fs::create_dir_all(pool.join("ct1")).unwrap();
    fs::write(
        pool.join("ct1/DiskDescriptor.xml"),
        "<Parallels_disk_image/>",
    )
    .unwrap();
    let mut hds = b"WithouFreSpacExt".to_vec();
    hds.resize(4096, 0);
    fs::write(pool.join("ct1/root.hds"), hds).unwrap();
    fs::write(pool.join("raw.img"), vec![0u8; 65536]).unwrap();
    let idle = base.join("idle");
    fs::create_dir_all(&idle).unwrap();
    fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let l = Libvirtd::start(&base);
    l.virsh(&[
        "pool-define-as",
        "p1",
        "dir",
        "--target",
        pool.to_str().unwrap(),
    ])
    .expect_ok();
    l.virsh(&[
        "pool-define-as",
        "idle",
        "dir",
        "--target",
        idle.to_str().unwrap(),
    ])
    .expect_ok();
    l.virsh(&["pool-start", "p1"]).expect_ok();

    let mut d = Daemon::start_with(Setup {
        config: &format!("vz_storage_uri = \"{}\"", l.uri()),
        ..Setup::default()
    });
    let out = define(&d, scratch.path(), &ct_with("p1", "ct1"));
    assert!(out.ok(), "{out:?}");
    let xml = d.virsh(&["dumpxml", "ct-vol"]).expect_ok().to_string();
    assert!(
        xml.contains(
            "<filesystem type='volume' accessmode='passthrough'>\n      <driver type='ploop' format='ploop'/>\n      <source pool='p1' volume='ct1'/>\n      <target dir='/data'/>\n    </filesystem>"
        ),
        "{xml}"
    );
    // The storage URL is kept with the guest: a restarted daemon shows
    // the same volume.
    d.stop();
    d.restart();
    assert_eq!(d.virsh(&["dumpxml", "ct-vol"]).expect_ok(), xml);
    // Redefining from that XML keeps it (the volume resolves again).
    let out = define(&d, scratch.path(), &xml);
    assert!(out.ok(), "{out:?}");
    assert_eq!(d.virsh(&["dumpxml", "ct-vol"]).expect_ok(), xml);
    // A redefinition that keeps the volume needs no storage daemon: the
    // path is the one the domain has (libvirt's vz driver resolves volumes
    // only when it creates a container).
    l.virsh(&["pool-destroy", "p1"]).expect_ok();
    let bigger = xml.replace("1048576", "2097152");
    assert_ne!(bigger, xml);
    let out = define(&d, scratch.path(), &bigger);
    assert!(out.ok(), "{out:?}");
    assert_eq!(d.virsh(&["dumpxml", "ct-vol"]).expect_ok(), bigger);
    l.virsh(&["pool-start", "p1"]).expect_ok();
    d.virsh(&["undefine", "ct-vol"]).expect_ok();

    let prefix = |out: &Out| {
        assert_eq!(out.code, Some(1), "{out:?}");
        out.stderr.lines().nth(1).unwrap_or_default().to_string()
    };
    assert_eq!(
        prefix(&define(&d, scratch.path(), &ct_with("nope", "ct1"))),
        "error: Storage pool not found: no storage pool with matching name 'nope'"
    );
    assert_eq!(
        prefix(&define(&d, scratch.path(), &ct_with("p1", "nope"))),
        "error: Storage volume not found: no storage vol with matching name 'nope'"
    );
    assert_eq!(
        prefix(&define(&d, scratch.path(), &ct_with("p1", "raw.img"))),
        "error: unsupported configuration: Unsupported volume format 'file'"
    );
    assert_eq!(
        prefix(&define(&d, scratch.path(), &ct_with("idle", "ct1"))),
        "error: unsupported configuration: storage pool 'idle' containing volume 'ct1' is not active"
    );
    // The codes a program sees.
    let script = format!(
        "import libvirt\nc = libvirt.open('{}')\nx = \"{}\"\nfor p, v in [('nope', 'ct1'), ('p1', 'nope'), ('p1', 'raw.img'), ('idle', 'ct1')]:\n    try:\n        c.defineXML(x.replace('POOL', p).replace('VOL', v))\n    except libvirt.libvirtError as e:\n        print(e.get_error_code())\n",
        d.uri(),
        ct_with("POOL", "VOL")
    );
    assert_eq!(python(&script).stdout, "49\n50\n67\n67\n");
    assert!(d
        .virsh(&["list", "--all", "--name"])
        .expect_ok()
        .trim()
        .is_empty());

    // Without the storage daemon: an operation failure naming its socket.
    drop(l);
    let out = define(&d, scratch.path(), &ct_with("p1", "ct1"));
    let line = prefix(&out);
    assert!(
        line.starts_with("error: operation failed: ")
            && line.contains(&format!("{}", base.join("run/libvirt-sock").display())),
        "{out:?}"
    );
}
