//! `make bench`: virtvzd and libvirt's libvirtd side by side, driven by
//! the same native load client (no libvirt.so in the loop), alternating
//! run by run, each figure the best of its rounds. Prints every workload
//! with both figures and the ratio, then the table as Markdown for the
//! README. Nothing here passes or fails on speed.
//!
//! Usage: virtvzd-bench --daemon PATH [--libvirtd PATH] [--seconds S]
//!        [--rounds N] [--max-domains N]

mod daemons;
mod load;
mod wire;

use daemons::{Daemon, Kind, Setup};
use load::Measured;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use virtvzd::remote::protocol::{Domain, DomainFlagsArgs};
use wire::{procs, Conn, Packet};

/// Both daemons, in the order every workload runs them.
const KINDS: [Kind; 2] = [Kind::Virtvzd, Kind::Libvirtd];
/// Connections held for the memory figures (libvirt's max_clients is 5000).
const IDLE_CONNS: usize = 1_000;
const HELD_CONNS: usize = 5_000;
/// Domain counts of the listing workloads.
const DOMAIN_STEPS: [usize; 4] = [10, 100, 1_000, 10_000];

struct Options {
    virtvzd: PathBuf,
    libvirtd: PathBuf,
    dur: Duration,
    rounds: usize,
    max_domains: usize,
}

fn options() -> Options {
    let mut o = Options {
        virtvzd: PathBuf::from("target/release/virtvzd"),
        libvirtd: PathBuf::from("/usr/sbin/libvirtd"),
        dur: Duration::from_secs(1),
        rounds: 3,
        max_domains: 10_000,
    };
    let mut args = std::env::args().skip(1);
    let usage = "usage: virtvzd-bench --daemon PATH [--libvirtd PATH] [--seconds S] \
                 [--rounds N] [--max-domains N]";
    while let Some(a) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("{usage}");
                std::process::exit(2)
            })
        };
        let number = |v: String| -> f64 {
            v.parse().unwrap_or_else(|_| {
                eprintln!("{usage}");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--daemon" => o.virtvzd = PathBuf::from(value()),
            "--libvirtd" => o.libvirtd = PathBuf::from(value()),
            "--seconds" => o.dur = Duration::from_secs_f64(number(value())),
            "--rounds" => o.rounds = number(value()).max(1.0) as usize,
            "--max-domains" => o.max_domains = number(value()) as usize,
            _ => {
                eprintln!("{usage} (got '{a}')");
                std::process::exit(2);
            }
        }
    }
    o
}

/// One cell of the table.
#[derive(Clone)]
enum Cell {
    /// A number in the row's unit.
    Num(f64),
    /// A number shown with a note (the ratio uses the number).
    Noted(f64, String),
    /// Words only (no ratio).
    Text(String),
    /// Not measured.
    None,
}

impl Cell {
    fn value(&self) -> Option<f64> {
        match self {
            Cell::Num(v) | Cell::Noted(v, _) => Some(*v),
            _ => None,
        }
    }
}

/// One line of the report.
struct Row {
    workload: String,
    unit: &'static str,
    /// Bigger is better (rates); else smaller is (times, memory).
    higher: bool,
    ours: Cell,
    theirs: Cell,
}

impl Row {
    /// How many times better virtvzd is (>1: virtvzd is better).
    fn ratio(&self) -> Option<f64> {
        let (a, b) = (self.ours.value()?, self.theirs.value()?);
        if a <= 0.0 || b <= 0.0 {
            return None;
        }
        Some(if self.higher { a / b } else { b / a })
    }
}

fn thousands(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn show(c: &Cell, unit: &str) -> String {
    let num = |v: f64| match unit {
        "calls/s" | "conns/s" | "defines/s" => thousands(v),
        "MiB" => format!("{v:.1}"),
        _ if v >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    };
    match c {
        Cell::Num(v) => num(*v),
        Cell::Noted(v, note) => format!("{} ({note})", num(*v)),
        Cell::Text(t) => t.clone(),
        Cell::None => "—".into(),
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The best of several measurements: highest rate, lowest latencies.
fn best(ms: &[Measured]) -> Measured {
    let mut b = ms.first().copied().unwrap_or_default();
    for m in ms {
        b.rate = b.rate.max(m.rate);
        b.p50 = b.p50.min(m.p50);
        b.p99 = b.p99.min(m.p99);
    }
    b
}

struct Bench {
    o: Options,
    setup: Setup,
    rows: Vec<Row>,
}

impl Bench {
    fn row(
        &mut self,
        workload: impl Into<String>,
        unit: &'static str,
        higher: bool,
        ours: Cell,
        theirs: Cell,
    ) {
        let r = Row {
            workload: workload.into(),
            unit,
            higher,
            ours,
            theirs,
        };
        let ratio = r.ratio().map_or("—".to_string(), |x| format!("{x:.2}×"));
        eprintln!(
            "  {:<52} {:>22} {:>22}  {ratio}",
            format!("{} [{}]", r.workload, r.unit),
            show(&r.ours, r.unit),
            show(&r.theirs, r.unit)
        );
        self.rows.push(r);
    }

    /// Runs `f` on each daemon in turn, `rounds` times, alternating.
    fn alternate(
        &self,
        ds: &[Daemon; 2],
        mut f: impl FnMut(&Daemon) -> Result<Measured, String>,
    ) -> [Measured; 2] {
        let mut got: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..self.o.rounds {
            for (i, d) in ds.iter().enumerate() {
                let m = f(d).unwrap_or_else(|e| panic!("{}: {e}", d.kind.name()));
                got[i].push(m);
            }
        }
        [best(&got[0]), best(&got[1])]
    }

    fn rate_rows(&mut self, name: &str, m: [Measured; 2], latency: bool) {
        self.row(
            name,
            "calls/s",
            true,
            Cell::Num(m[0].rate),
            Cell::Num(m[1].rate),
        );
        if latency {
            self.row(
                format!("{name}: RTT p50"),
                "µs",
                false,
                Cell::Num(us(m[0].p50)),
                Cell::Num(us(m[1].p50)),
            );
            self.row(
                format!("{name}: RTT p99"),
                "µs",
                false,
                Cell::Num(us(m[0].p99)),
                Cell::Num(us(m[1].p99)),
            );
        }
    }

    /// Runs `f` with the load client and every thread of both daemons on
    /// one CPU: on one connection a round trip is then what the software
    /// costs, without the cross-CPU wake-ups a VM makes slow.
    fn on_one_cpu<T>(ds: &[Daemon; 2], f: impl FnOnce() -> T) -> T {
        daemons::set_affinity(0, true);
        for d in ds {
            d.pin(true);
        }
        let r = f();
        daemons::set_affinity(0, false);
        for d in ds {
            d.pin(false);
        }
        r
    }

    /// Start-up (exec to first answered call) and SIGTERM to exit, each
    /// daemon started from nothing `rounds` times.
    fn startup_and_exit(&mut self) {
        let mut start = [Duration::MAX; 2];
        let mut stop = [Duration::MAX; 2];
        for _ in 0..self.o.rounds {
            for (i, k) in KINDS.iter().enumerate() {
                let (d, t) = Daemon::start(*k, &self.setup);
                start[i] = start[i].min(t);
                std::thread::sleep(Duration::from_millis(200));
                stop[i] = stop[i].min(d.stop());
            }
        }
        self.row(
            "start-up: exec to first answered call",
            "ms",
            false,
            Cell::Num(ms(start[0])),
            Cell::Num(ms(start[1])),
        );
        self.row(
            "SIGTERM to exit (idle)",
            "ms",
            false,
            Cell::Num(ms(stop[0])),
            Cell::Num(ms(stop[1])),
        );
    }

    /// RSS with 1,000 idle connections, then with 5,000, each answering
    /// one call.
    fn connections_held(&mut self, ds: &[Daemon; 2]) {
        let mut idle = [Cell::None, Cell::None];
        let mut held = [Cell::None, Cell::None];
        let mut answered = [Cell::None, Cell::None];
        for (i, d) in ds.iter().enumerate() {
            let mut conns = Vec::with_capacity(HELD_CONNS);
            let mut failure = None;
            while conns.len() < HELD_CONNS {
                match Conn::open(&d.sock, d.kind.uri()) {
                    Ok(c) => conns.push(c),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
                if conns.len() == IDLE_CONNS {
                    std::thread::sleep(Duration::from_millis(500));
                    idle[i] = Cell::Num(mib(d.rss_kib()));
                }
            }
            if let Some(e) = &failure {
                eprintln!(
                    "  {}: connection {} failed: {e}",
                    d.kind.name(),
                    conns.len() + 1
                );
            }
            // Every connection sends one call, then every reply is read.
            let mut p = Packet::call(procs::CONNECT_GET_LIB_VERSION, &[]);
            let sent: Vec<bool> = conns.iter_mut().map(|c| c.send(&mut p).is_ok()).collect();
            let replies = conns
                .iter_mut()
                .zip(sent)
                .map(|(c, sent)| sent && c.recv().is_ok())
                .filter(|answered| *answered)
                .count();
            std::thread::sleep(Duration::from_millis(300));
            held[i] = Cell::Noted(
                mib(d.rss_kib()),
                format!("{} threads", thousands(d.threads() as f64)),
            );
            answered[i] = Cell::Text(format!("{replies} of {HELD_CONNS}"));
            drop(conns);
            // Let the daemon see 5,000 hang-ups before the next workload.
            std::thread::sleep(Duration::from_secs(2));
        }
        let [i0, i1] = idle;
        self.row(
            format!("RSS, {} idle connections", thousands(IDLE_CONNS as f64)),
            "MiB",
            false,
            i0,
            i1,
        );
        let [h0, h1] = held;
        self.row(
            format!("RSS, {} connections", thousands(HELD_CONNS as f64)),
            "MiB",
            false,
            h0,
            h1,
        );
        let [a0, a1] = answered;
        self.row(
            format!(
                "{} connections: calls answered",
                thousands(HELD_CONNS as f64)
            ),
            "calls",
            true,
            a0,
            a1,
        );
    }

    /// Defines domains named bench-NNNNN until each daemon has `n` in
    /// all (`preset`: the domains it had before): defines per second.
    fn define_up_to(
        &self,
        ds: &[Daemon; 2],
        keepers: &mut [Conn; 2],
        preset: [usize; 2],
        n: usize,
    ) -> [f64; 2] {
        let mut rates = [0.0; 2];
        for (i, d) in ds.iter().enumerate() {
            let have = keepers[i]
                .count_domains()
                .unwrap_or_else(|e| panic!("{}: {e}", d.kind.name()))
                as usize;
            let t0 = Instant::now();
            for j in have.saturating_sub(preset[i])..n.saturating_sub(preset[i]) {
                keepers[i]
                    .define(&d.kind.domain_xml(&format!("bench-{j:05}")))
                    .unwrap_or_else(|e| panic!("{}: define: {e}", d.kind.name()));
            }
            rates[i] = n.saturating_sub(have) as f64 / t0.elapsed().as_secs_f64();
        }
        rates
    }

    fn domain_packet(&self, keeper: &mut Conn, proc_: i32, name: &str) -> Packet {
        let dom: Domain = keeper
            .lookup(name)
            .unwrap_or_else(|e| panic!("lookup {name}: {e}"));
        Packet::with_args(proc_, &DomainFlagsArgs { dom, flags: 0 })
    }

    fn run(&mut self) {
        let dur = self.o.dur;
        eprintln!(
            "  {:<52} {:>22} {:>22}  ratio",
            "workload [unit]", "virtvzd", "libvirtd"
        );
        self.startup_and_exit();

        let mut started = Vec::new();
        for k in KINDS {
            started.push(Daemon::start(k, &self.setup).0);
        }
        let ds: [Daemon; 2] = match started.try_into() {
            Ok(ds) => ds,
            Err(_) => unreachable!("two kinds, two daemons"),
        };
        std::thread::sleep(Duration::from_millis(500));
        self.row(
            "RSS idle",
            "MiB",
            false,
            Cell::Noted(mib(ds[0].rss_kib()), format!("{} threads", ds[0].threads())),
            Cell::Noted(mib(ds[1].rss_kib()), format!("{} threads", ds[1].threads())),
        );

        // The trivial call, and the socket floor of the same sizes.
        let trivial = Packet::call(procs::CONNECT_GET_LIB_VERSION, &[]);
        let reply_len = trivial.len() + 8;
        let floors: Vec<Measured> = (0..self.o.rounds)
            .map(|_| {
                load::socket_floor(&self.setup.scratch, &trivial, reply_len, dur).expect("floor")
            })
            .collect();
        let floor = best(&floors);
        let one = self.alternate(&ds, |d| {
            load::run(&d.sock, d.kind.uri(), &trivial, 1, 1, dur)
        });
        self.row(
            "UNIX socket ping-pong floor, 1 conn",
            "calls/s",
            true,
            Cell::Num(floor.rate),
            Cell::None,
        );
        self.row(
            "UNIX socket floor: RTT p50",
            "µs",
            false,
            Cell::Num(us(floor.p50)),
            Cell::None,
        );
        self.rate_rows("GET_LIB_VERSION, 1 conn", one, true);
        self.row(
            "GET_LIB_VERSION p50 / floor p50",
            "×",
            false,
            Cell::Num(one[0].p50.as_secs_f64() / floor.p50.as_secs_f64()),
            Cell::Num(one[1].p50.as_secs_f64() / floor.p50.as_secs_f64()),
        );
        let floor_pinned = Self::on_one_cpu(&ds, || {
            let floors: Vec<Measured> = (0..self.o.rounds)
                .map(|_| {
                    load::socket_floor(&self.setup.scratch, &trivial, reply_len, dur)
                        .expect("floor")
                })
                .collect();
            best(&floors)
        });
        self.row(
            "UNIX socket floor, one CPU: RTT p50",
            "µs",
            false,
            Cell::Num(us(floor_pinned.p50)),
            Cell::None,
        );
        let pinned = Self::on_one_cpu(&ds, || {
            self.alternate(&ds, |d| {
                load::run(&d.sock, d.kind.uri(), &trivial, 1, 1, dur)
            })
        });
        self.rate_rows("GET_LIB_VERSION, 1 conn, one CPU", pinned, true);
        self.row(
            "GET_LIB_VERSION p50 / floor p50, one CPU",
            "×",
            false,
            Cell::Num(pinned[0].p50.as_secs_f64() / floor_pinned.p50.as_secs_f64()),
            Cell::Num(pinned[1].p50.as_secs_f64() / floor_pinned.p50.as_secs_f64()),
        );
        let eight = self.alternate(&ds, |d| {
            load::run(&d.sock, d.kind.uri(), &trivial, 8, 1, dur)
        });
        self.rate_rows("GET_LIB_VERSION, 8 conns", eight, false);
        let piped = self.alternate(&ds, |d| {
            load::run(&d.sock, d.kind.uri(), &trivial, 8, 4, dur)
        });
        self.rate_rows("GET_LIB_VERSION, 8 conns pipelined ×4", piped, false);
        let setup = self.alternate(&ds, |d| load::connection_setup(&d.sock, d.kind.uri(), dur));
        self.row(
            "connection setup (AUTH_LIST+OPEN+CLOSE)",
            "conns/s",
            true,
            Cell::Num(setup[0].rate),
            Cell::Num(setup[1].rate),
        );

        self.connections_held(&ds);

        // Domains, defined through the RPC on both; a connection stays
        // open meanwhile (libvirt's test driver forgets its domains when
        // the last connection closes).
        let mut keepers = [
            Conn::open(&ds[0].sock, ds[0].kind.uri()).expect("open virtvzd"),
            Conn::open(&ds[1].sock, ds[1].kind.uri()).expect("open libvirtd"),
        ];
        let steps: Vec<usize> = DOMAIN_STEPS
            .iter()
            .copied()
            .filter(|n| *n <= self.o.max_domains)
            .collect();
        let preset = [
            keepers[0].count_domains().expect("list virtvzd") as usize,
            keepers[1].count_domains().expect("list libvirtd") as usize,
        ];
        let mut define_rate = [0.0; 2];
        for (step, n) in steps.iter().copied().enumerate() {
            define_rate = self.define_up_to(&ds, &mut keepers, preset, n);
            if step == 0 {
                for (proc_, name) in [
                    (procs::DOMAIN_GET_STATE, "DOMAIN_GET_STATE"),
                    (procs::DOMAIN_GET_XML_DESC, "DOMAIN_GET_XML_DESC"),
                ] {
                    let packets = [
                        self.domain_packet(&mut keepers[0], proc_, "bench-00000"),
                        self.domain_packet(&mut keepers[1], proc_, "bench-00000"),
                    ];
                    let m = self.alternate(&ds, |d| {
                        let i = if d.kind == Kind::Virtvzd { 0 } else { 1 };
                        load::run(&d.sock, d.kind.uri(), &packets[i], 1, 1, dur)
                    });
                    self.rate_rows(&format!("{name}, 1 conn"), m, false);
                    self.row(
                        format!("{name}, 1 conn: RTT p50"),
                        "µs",
                        false,
                        Cell::Num(us(m[0].p50)),
                        Cell::Num(us(m[1].p50)),
                    );
                    let m = Self::on_one_cpu(&ds, || {
                        self.alternate(&ds, |d| {
                            let i = if d.kind == Kind::Virtvzd { 0 } else { 1 };
                            load::run(&d.sock, d.kind.uri(), &packets[i], 1, 1, dur)
                        })
                    });
                    self.rate_rows(&format!("{name}, 1 conn, one CPU"), m, false);
                    let m = self.alternate(&ds, |d| {
                        let i = if d.kind == Kind::Virtvzd { 0 } else { 1 };
                        load::run(&d.sock, d.kind.uri(), &packets[i], 8, 4, dur)
                    });
                    self.rate_rows(&format!("{name}, 8 conns pipelined ×4"), m, false);
                }
            }
            let list = Packet::with_args(
                procs::CONNECT_LIST_ALL_DOMAINS,
                &virtvzd::remote::protocol::ListAllDomainsArgs {
                    need_results: 1,
                    flags: 0,
                },
            );
            let m = self.alternate(&ds, |d| load::run(&d.sock, d.kind.uri(), &list, 1, 1, dur));
            let per = |r: f64| format!("{:.2} µs/domain", 1e6 / r / n as f64);
            self.row(
                format!("LIST_ALL_DOMAINS, {} domains, 1 conn", thousands(n as f64)),
                "calls/s",
                true,
                Cell::Noted(m[0].rate, per(m[0].rate)),
                Cell::Noted(m[1].rate, per(m[1].rate)),
            );
        }
        let most = steps.last().copied().unwrap_or(0);
        if most > 0 {
            let name = format!("bench-{:05}", most / 2);
            let label = thousands(most as f64);
            let packets = [
                self.domain_packet(&mut keepers[0], procs::DOMAIN_GET_STATE, &name),
                self.domain_packet(&mut keepers[1], procs::DOMAIN_GET_STATE, &name),
            ];
            let m = self.alternate(&ds, |d| {
                let i = if d.kind == Kind::Virtvzd { 0 } else { 1 };
                load::run(&d.sock, d.kind.uri(), &packets[i], 1, 1, dur)
            });
            self.rate_rows(
                &format!("DOMAIN_GET_STATE, {label} domains, 1 conn"),
                m,
                false,
            );
            let lookup = Packet::with_args(procs::DOMAIN_LOOKUP_BY_NAME, &name);
            let m = self.alternate(&ds, |d| {
                load::run(&d.sock, d.kind.uri(), &lookup, 1, 1, dur)
            });
            self.rate_rows(
                &format!("DOMAIN_LOOKUP_BY_NAME, {label} domains, 1 conn"),
                m,
                false,
            );
            self.row(
                format!("DOMAIN_DEFINE_XML up to {label} domains, 1 conn"),
                "defines/s",
                true,
                Cell::Num(define_rate[0]),
                Cell::Num(define_rate[1]),
            );
        }
        drop(keepers);

        // Exit and start-up with every domain defined: only virtvzd keeps
        // its guests (the test driver's live in memory).
        let [ours, theirs] = ds;
        let stop = [ours.stop(), theirs.stop()];
        if most > 0 {
            let label = thousands(most as f64);
            self.row(
                format!("SIGTERM to exit, {label} domains"),
                "ms",
                false,
                Cell::Num(ms(stop[0])),
                Cell::Num(ms(stop[1])),
            );
            let t0 = Instant::now();
            let (again, first) = Daemon::start(Kind::Virtvzd, &self.setup);
            let mut c = Conn::open(&again.sock, Kind::Virtvzd.uri()).expect("open");
            let listed = c.count_domains().expect("list");
            let all = t0.elapsed();
            drop(c);
            self.row(
                format!("start-up with {label} guests: first answered call"),
                "ms",
                false,
                Cell::Num(ms(first)),
                Cell::Text("—".into()),
            );
            self.row(
                format!("start-up with {label} guests: all {listed} listed"),
                "ms",
                false,
                Cell::Num(ms(all)),
                Cell::Text("—".into()),
            );
            again.stop();
        }
    }

    /// The targets for the code, checked against this run.
    fn targets(&self) -> String {
        let find = |w: &str| self.rows.iter().find(|r| r.workload.starts_with(w));
        let mut s = String::new();
        for (row, label) in [
            ("GET_LIB_VERSION p50 / floor p50", ""),
            ("GET_LIB_VERSION p50 / floor p50, one CPU", " (one CPU)"),
        ] {
            if let Some(v) = self
                .rows
                .iter()
                .find(|r| r.workload == row)
                .and_then(|r| r.ours.value())
            {
                let _ = writeln!(
                    s,
                    "- trivial-call RTT p50 {v:.2}× the socket floor{label} (target ≤ 2×)"
                );
            }
        }
        let rates: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| matches!(r.unit, "calls/s" | "conns/s") && r.ratio().is_some())
            .collect();
        let low: Vec<String> = rates
            .iter()
            .filter(|r| r.ratio().is_some_and(|x| x < 3.0))
            .map(|r| format!("{} ({:.2}×)", r.workload, r.ratio().unwrap_or(0.0)))
            .collect();
        let _ = writeln!(
            s,
            "- calls/s ≥ 3× libvirtd: {} of {} workloads{}",
            rates.len() - low.len(),
            rates.len(),
            if low.is_empty() {
                String::new()
            } else {
                format!("; below: {}", low.join(", "))
            }
        );
        if let Some(v) = find("RSS idle").and_then(|r| r.ours.value()) {
            let _ = writeln!(s, "- idle RSS {v:.1} MiB (target ≤ 8 MiB)");
        }
        if let Some(r) = find(&format!(
            "{} connections: calls answered",
            thousands(HELD_CONNS as f64)
        )) {
            let _ = writeln!(
                s,
                "- {} connections held: {} answered",
                thousands(HELD_CONNS as f64),
                show(&r.ours, "")
            );
        }
        s
    }

    fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "| workload | unit | virtvzd | libvirtd 9.0 | ratio |");
        let _ = writeln!(s, "|---|---|--:|--:|--:|");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                r.workload,
                r.unit,
                show(&r.ours, r.unit),
                show(&r.theirs, r.unit),
                r.ratio().map_or("—".into(), |x| format!("{x:.2}×"))
            );
        }
        s
    }
}

/// Every client connection is a descriptor: 5,000 need the hard limit.
fn raise_nofile_limit() {
    // SAFETY: rlimit is plain data, filled by getrlimit.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: lim is valid for writing; setrlimit gets a valid rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = daemons::online_cpus();
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
    let debian = read("/etc/debian_version").trim().to_string();
    format!("{cpus} × {cpu}, {mem} RAM, Linux {kernel}, Debian {debian}")
}

fn main() {
    let o = options();
    if !o.libvirtd.exists() {
        eprintln!(
            "virtvzd-bench: {} is missing: install Debian's libvirt-daemon \
             (make bench does it as root)",
            o.libvirtd.display()
        );
        std::process::exit(1);
    }
    raise_nofile_limit();
    let pid = std::process::id();
    let scratch = std::env::temp_dir().join(format!("virtvzd-bench-{pid}"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o755));
    // The embedded host writes each guest with fsync; on tmpfs that costs
    // nothing, as libvirt's test driver (all in memory) pays nothing.
    let shm = PathBuf::from("/dev/shm");
    let store = if shm.is_dir() {
        shm.join(format!("virtvzd-bench-{pid}-store"))
    } else {
        scratch.join("store")
    };
    let _ = std::fs::remove_dir_all(&store);
    // Removed however the run ends (a daemon that fails panics the bench).
    let _cleanup = Cleanup(vec![scratch.clone(), store.clone()]);
    let setup = Setup {
        virtvzd: o.virtvzd.clone(),
        libvirtd: o.libvirtd.clone(),
        scratch: scratch.clone(),
        store: store.clone(),
    };
    let version = std::process::Command::new(&o.libvirtd)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    eprintln!(
        "virtvzd-bench: {} s per sample, best of {} alternating rounds; {version}",
        o.dur.as_secs_f64(),
        o.rounds
    );
    eprintln!("machine: {}", machine());
    let t0 = Instant::now();
    let mut b = Bench {
        o,
        setup,
        rows: Vec::new(),
    };
    b.run();
    println!("\nmachine: {}; {version}", machine());
    println!(
        "ratio: how many times better virtvzd is (>1 is better); {} s per sample, best of {} rounds; run took {:.0} s\n",
        b.o.dur.as_secs_f64(),
        b.o.rounds,
        t0.elapsed().as_secs_f64()
    );
    print!("{}", b.markdown());
    println!("\ntargets:\n{}", b.targets());
}

/// Directories removed when the run ends.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
