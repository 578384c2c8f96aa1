//! The load loops: N connections, each keeping `depth` calls in flight
//! for a fixed time, timing every round trip; and the raw socket floor.

use crate::wire::{read_packet, Conn, Packet};
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    /// Calls answered per second, all connections together.
    pub rate: f64,
    /// Median round trip.
    pub p50: Duration,
    /// 99th percentile round trip.
    pub p99: Duration,
}

struct Sample {
    calls: u64,
    elapsed: Duration,
    rtts: Vec<u32>,
}

/// Keeps `depth` copies of `packet` in flight on `conn` for `dur`.
fn drive(conn: &mut Conn, packet: &Packet, depth: usize, dur: Duration) -> Result<Sample, String> {
    let mut p = packet.clone();
    let mut rtts = Vec::with_capacity(1 << 18);
    let mut sent_at = VecDeque::with_capacity(depth);
    let mut calls = 0u64;
    let start = Instant::now();
    while start.elapsed() < dur {
        while sent_at.len() < depth {
            conn.send(&mut p).map_err(|e| e.to_string())?;
            sent_at.push_back(Instant::now());
        }
        conn.recv()?;
        if let Some(t) = sent_at.pop_front() {
            rtts.push(t.elapsed().as_nanos().min(u32::MAX.into()) as u32);
        }
        calls += 1;
    }
    let elapsed = start.elapsed();
    while sent_at.pop_front().is_some() {
        conn.recv()?;
    }
    Ok(Sample {
        calls,
        elapsed,
        rtts,
    })
}

fn summarize(samples: &[Sample]) -> Measured {
    let rate = samples
        .iter()
        .map(|s| s.calls as f64 / s.elapsed.as_secs_f64())
        .sum();
    let mut all: Vec<u32> = samples
        .iter()
        .flat_map(|s| s.rtts.iter().copied())
        .collect();
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        Duration::from_nanos(all.get(i).copied().unwrap_or(0).into())
    };
    Measured {
        rate,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// `conns` connections opened on `uri`, each keeping `depth` calls of
/// `packet` in flight for `dur`, all starting together.
pub fn run(
    sock: &Path,
    uri: &str,
    packet: &Packet,
    conns: usize,
    depth: usize,
    dur: Duration,
) -> Result<Measured, String> {
    let opened: Vec<Conn> = (0..conns)
        .map(|_| Conn::open(sock, uri))
        .collect::<Result<_, _>>()?;
    let start = Arc::new(Barrier::new(conns));
    let threads: Vec<_> = opened
        .into_iter()
        .map(|mut c| {
            let p = packet.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                drive(&mut c, &p, depth, dur)
            })
        })
        .collect();
    let samples = threads
        .into_iter()
        .map(|t| t.join().map_err(|_| "a load thread panicked".to_string())?)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(summarize(&samples))
}

/// Connection setup: connect, AUTH_LIST, CONNECT_OPEN, CONNECT_CLOSE,
/// close, as fast as one client can for `dur`: connections per second.
pub fn connection_setup(sock: &Path, uri: &str, dur: Duration) -> Result<Measured, String> {
    let mut rtts = Vec::new();
    let mut calls = 0;
    let start = Instant::now();
    while start.elapsed() < dur {
        let t = Instant::now();
        let mut c = Conn::open(sock, uri)?;
        c.call_raw(crate::wire::procs::CONNECT_CLOSE, &[])?;
        drop(c);
        rtts.push(t.elapsed().as_nanos() as u32);
        calls += 1;
    }
    Ok(summarize(&[Sample {
        calls,
        elapsed: start.elapsed(),
        rtts,
    }]))
}

/// The physical floor: a thread answering each packet with a reply of
/// `reply_len` bytes over a UNIX socket, nothing else.
pub fn socket_floor(
    dir: &Path,
    call: &Packet,
    reply_len: usize,
    dur: Duration,
) -> Result<Measured, String> {
    let path = dir.join("floor.sock");
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).map_err(|e| e.to_string())?;
    let server = std::thread::spawn(move || {
        let Ok((mut c, _)) = l.accept() else {
            return;
        };
        // A REPLY header (type 1, status 0) and a zero body of the size
        // the daemons send.
        let mut reply = vec![0u8; reply_len];
        reply[..4].copy_from_slice(&(reply_len as u32).to_be_bytes());
        reply[4..8].copy_from_slice(&virtvzd::remote::protocol::PROGRAM.to_be_bytes());
        reply[8..12].copy_from_slice(&1u32.to_be_bytes());
        reply[16..20].copy_from_slice(&1u32.to_be_bytes());
        let mut buf = Vec::new();
        while read_packet(&mut c, &mut buf).is_ok() {
            if c.write_all(&reply).is_err() {
                break;
            }
        }
    });
    let stream = UnixStream::connect(&path).map_err(|e| e.to_string())?;
    let mut conn = Conn::from_stream(stream);
    let s = drive(&mut conn, call, 1, dur)?;
    drop(conn);
    let _ = server.join();
    let _ = std::fs::remove_file(&path);
    Ok(summarize(&[s]))
}
