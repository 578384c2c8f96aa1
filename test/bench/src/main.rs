//! `make bench`: measures virtvzd with a native load client (no libvirt.so
//! in the loop) and prints the numbers. Nothing here passes or fails.
//!
//! Usage: virtvzd-bench [--daemon PATH] [--seconds N]

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use virtvzd::rpc::message::{self, Header, MessageType};
use virtvzd::rpc::xdr;

const REMOTE: u32 = 0x2000_8086;
const CONNECT_OPEN: i32 = 1;
const AUTH_LIST: i32 = 66;
const GET_LIB_VERSION: i32 = 157;

fn call_packet(proc_: i32, serial: u32, body: &[u8]) -> Vec<u8> {
    message::packet(
        &Header {
            prog: REMOTE,
            vers: 1,
            proc_,
            mtype: MessageType::Call as i32,
            serial,
            status: 0,
        },
        body,
    )
}

/// Reads one packet into `buf`; returns its length.
fn read_packet(s: &mut UnixStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    buf.resize(len.saturating_sub(4), 0);
    s.read_exact(buf)?;
    Ok(len)
}

fn open(path: &Path) -> UnixStream {
    let mut s = UnixStream::connect(path).expect("connect to virtvzd");
    let mut buf = Vec::new();
    s.write_all(&call_packet(AUTH_LIST, 0, &[])).unwrap();
    read_packet(&mut s, &mut buf).unwrap();
    let body = xdr::to_bytes(&(Some("vz:///system"), 0u32)).unwrap();
    s.write_all(&call_packet(CONNECT_OPEN, 1, &body)).unwrap();
    read_packet(&mut s, &mut buf).unwrap();
    s
}

struct Sample {
    calls: u64,
    elapsed: Duration,
    rtts: Vec<Duration>,
}

/// One connection issuing `depth` calls at a time for `dur`.
fn drive(mut s: UnixStream, depth: usize, dur: Duration, make: fn(u32) -> Vec<u8>) -> Sample {
    let mut buf = Vec::with_capacity(256);
    let mut rtts = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    let mut serial = 100u32;
    let mut sent_at = std::collections::VecDeque::with_capacity(depth);
    let mut calls = 0u64;
    while start.elapsed() < dur {
        while sent_at.len() < depth {
            s.write_all(&make(serial)).unwrap();
            serial = serial.wrapping_add(1);
            sent_at.push_back(Instant::now());
        }
        read_packet(&mut s, &mut buf).unwrap();
        if let Some(t) = sent_at.pop_front() {
            rtts.push(t.elapsed());
        }
        calls += 1;
    }
    while sent_at.pop_front().is_some() {
        read_packet(&mut s, &mut buf).unwrap();
    }
    Sample {
        calls,
        elapsed: start.elapsed(),
        rtts,
    }
}

fn lib_version(serial: u32) -> Vec<u8> {
    call_packet(GET_LIB_VERSION, serial, &[])
}

fn run_workload(
    path: &Path,
    conns: usize,
    depth: usize,
    dur: Duration,
) -> (f64, Duration, Duration) {
    let streams: Vec<UnixStream> = (0..conns).map(|_| open(path)).collect();
    let handles: Vec<_> = streams
        .into_iter()
        .map(|s| std::thread::spawn(move || drive(s, depth, dur, lib_version)))
        .collect();
    let samples: Vec<Sample> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    summarize(&samples)
}

fn summarize(samples: &[Sample]) -> (f64, Duration, Duration) {
    let rate: f64 = samples
        .iter()
        .map(|s| s.calls as f64 / s.elapsed.as_secs_f64())
        .sum();
    let mut all: Vec<Duration> = samples
        .iter()
        .flat_map(|s| s.rtts.iter().copied())
        .collect();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (rate, pct(0.50), pct(0.99))
}

/// The physical floor: a UNIX socket ping-pong of the same sizes, with a
/// thread that answers each 28-byte call with a 36-byte reply.
fn socket_floor(dir: &Path, dur: Duration) -> (f64, Duration, Duration) {
    let path = dir.join("floor.sock");
    let l = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let reply = message::packet(
            &Header {
                prog: REMOTE,
                vers: 1,
                proc_: GET_LIB_VERSION,
                mtype: MessageType::Reply as i32,
                serial: 0,
                status: 0,
            },
            &9_000_000u64.to_be_bytes(),
        );
        let mut buf = Vec::new();
        while read_packet(&mut c, &mut buf).is_ok() {
            if c.write_all(&reply).is_err() {
                break;
            }
        }
    });
    let s = UnixStream::connect(&path).unwrap();
    let sample = drive(s, 1, dur, lib_version);
    summarize(&[sample])
}

struct DaemonProc {
    child: Child,
    dir: PathBuf,
}

impl Drop for DaemonProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_daemon(bin: &Path) -> DaemonProc {
    let dir = std::env::temp_dir().join(format!("virtvzd-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("virtvzd.conf");
    std::fs::write(
        &conf,
        format!(
            "unix_sock_dir = \"{}\"\nvz_embedded_dir = \"{}\"\nmax_client_requests = 16\n",
            dir.join("run").display(),
            dir.join("store").display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg("-f")
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("virtvzd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start virtvzd");
    let sock = dir.join("run/virtvzd-sock");
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&sock).is_err() {
        assert!(Instant::now() < deadline, "virtvzd did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    DaemonProc { child, dir }
}

fn main() {
    let mut bin = PathBuf::from("target/release/virtvzd");
    let mut secs = 2u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--daemon" => bin = args.next().map(PathBuf::from).expect("--daemon PATH"),
            "--seconds" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seconds N")
            }
            other => {
                eprintln!("usage: virtvzd-bench [--daemon PATH] [--seconds N] (got '{other}')");
                std::process::exit(2);
            }
        }
    }
    let dur = Duration::from_secs(secs);
    let d = start_daemon(&bin);
    let sock = d.dir.join("run/virtvzd-sock");
    println!("virtvzd benchmark: CONNECT_GET_LIB_VERSION, {secs} s per workload");
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "workload", "calls/s", "p50", "p99"
    );
    let row = |name: &str, (rate, p50, p99): (f64, Duration, Duration)| {
        println!("{name:<34} {rate:>12.0} {:>10.1?} {:>10.1?}", p50, p99);
    };
    row("unix socket floor, 1 conn", socket_floor(&d.dir, dur));
    for (conns, depth) in [(1, 1), (1, 4), (8, 1), (8, 4)] {
        let name = format!("virtvzd, {conns} conn, depth {depth}");
        row(&name, run_workload(&sock, conns, depth, dur));
    }
}
