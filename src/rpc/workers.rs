//! The worker pool: threads that run calls which may block (SDK jobs).
//!
//! Normal workers take jobs of either priority; priority workers take only
//! high-priority jobs, so a pool full of stuck calls still answers
//! lookups, state queries and destroy (as libvirt's `prio_workers`).
//! The pool starts `min` workers and grows to `max` when a job arrives and
//! no worker is free.

use crossbeam_channel::{select, unbounded, Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// A unit of work.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Stack size of a worker: driver calls are shallow; the default 8 MiB
/// of address space per thread buys nothing.
const WORKER_STACK: usize = 256 * 1024;

/// Starts a thread (the OS's, or a failing one in tests).
type Spawner = fn(thread::Builder, Job) -> std::io::Result<()>;

fn os_spawn(b: thread::Builder, f: Job) -> std::io::Result<()> {
    b.spawn(f).map(drop)
}

/// Sizes of a pool, as `min_workers`, `max_workers`, `prio_workers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolLimits {
    /// Workers kept even when idle.
    pub min: usize,
    /// Most workers.
    pub max: usize,
    /// Priority workers.
    pub prio: usize,
}

/// Live numbers of a pool, for virt-admin's `srv-threadpool-info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// The configured limits.
    pub limits: PoolLimits,
    /// Normal workers running.
    pub workers: usize,
    /// Normal workers waiting for a job.
    pub free: usize,
    /// Priority workers running.
    pub prio_workers: usize,
    /// Jobs waiting for a worker.
    pub queue_depth: usize,
}

struct Shared {
    name: String,
    normal: (Sender<Job>, Receiver<Job>),
    prio: (Sender<Job>, Receiver<Job>),
    /// One message retires one normal worker. Each kind has its own, as
    /// normal workers also take high-priority jobs: a shared "quit" would
    /// retire whichever worker saw it first.
    retire_normal: (Sender<()>, Receiver<()>),
    /// One message retires one priority worker.
    retire_prio: (Sender<()>, Receiver<()>),
    limits: Mutex<PoolLimits>,
    workers: AtomicUsize,
    free: AtomicUsize,
    prio_workers: AtomicUsize,
    /// The last thread start failed (it is logged once, not per job).
    spawn_failing: AtomicBool,
    spawner: Spawner,
}

/// A pool of worker threads.
#[derive(Clone)]
pub struct WorkerPool {
    shared: Arc<Shared>,
}

impl WorkerPool {
    /// Starts a pool named `name` (thread names derive from it).
    pub fn new(name: &str, limits: PoolLimits) -> WorkerPool {
        WorkerPool::with_spawner(name, limits, os_spawn)
    }

    fn with_spawner(name: &str, limits: PoolLimits, spawner: Spawner) -> WorkerPool {
        let pool = WorkerPool {
            shared: Arc::new(Shared {
                name: name.to_string(),
                normal: unbounded(),
                prio: unbounded(),
                retire_normal: unbounded(),
                retire_prio: unbounded(),
                limits: Mutex::new(PoolLimits {
                    min: 0,
                    max: 0,
                    prio: 0,
                }),
                workers: AtomicUsize::new(0),
                free: AtomicUsize::new(0),
                prio_workers: AtomicUsize::new(0),
                spawn_failing: AtomicBool::new(false),
                spawner,
            }),
        };
        pool.set_limits(limits);
        pool
    }

    /// Queues a job; `high` lets priority workers take it.
    pub fn submit(&self, job: Job, high: bool) {
        let s = &self.shared;
        let tx = if high { &s.prio.0 } else { &s.normal.0 };
        // Both channels live as long as `shared`: send cannot fail.
        let _ = tx.send(job);
        // Grow while more jobs wait than workers are free to take them.
        let queued = s.normal.1.len() + s.prio.1.len();
        if queued > s.free.load(Ordering::Acquire) {
            let max = s.limits.lock().max;
            if s.workers.load(Ordering::Acquire) < max && !self.spawn(false) {
                self.run_stranded();
            }
        }
    }

    /// No thread could be started: the workers there are take the queue
    /// in time, but with none at all a queued call would wait for ever, so
    /// the caller runs what is stranded itself (its connection stalls
    /// meanwhile; its client still gets the reply).
    fn run_stranded(&self) {
        let s = &self.shared;
        loop {
            let normal_workers = s.workers.load(Ordering::Acquire);
            let job = if normal_workers > 0 {
                None
            } else if s.prio_workers.load(Ordering::Acquire) > 0 {
                s.normal.1.try_recv().ok()
            } else {
                s.prio.1.try_recv().or_else(|_| s.normal.1.try_recv()).ok()
            };
            match job {
                Some(job) => run(job),
                None => break,
            }
        }
    }

    /// Changes the limits live: starts workers up to the new minimum and
    /// priority count, and retires extra ones as they finish their job.
    pub fn set_limits(&self, new: PoolLimits) {
        let s = &self.shared;
        let new = PoolLimits {
            min: new.min.min(new.max),
            ..new
        };
        *s.limits.lock() = new;
        let workers = s.workers.load(Ordering::Acquire);
        for _ in workers..new.min {
            self.spawn(false);
        }
        for _ in new.max..workers {
            let _ = s.retire_normal.0.send(());
        }
        let prio = s.prio_workers.load(Ordering::Acquire);
        for _ in prio..new.prio {
            self.spawn(true);
        }
        for _ in new.prio..prio {
            let _ = s.retire_prio.0.send(());
        }
    }

    /// The pool's current numbers.
    pub fn stats(&self) -> PoolStats {
        let s = &self.shared;
        let queued = s.normal.1.len() + s.prio.1.len();
        PoolStats {
            limits: *s.limits.lock(),
            workers: s.workers.load(Ordering::Acquire),
            free: s.free.load(Ordering::Acquire),
            prio_workers: s.prio_workers.load(Ordering::Acquire),
            queue_depth: queued,
        }
    }

    /// Asks every worker to stop once the queued jobs are done.
    pub fn shutdown(&self) {
        let s = &self.shared;
        for _ in 0..s.workers.load(Ordering::Acquire) {
            let _ = s.retire_normal.0.send(());
        }
        for _ in 0..s.prio_workers.load(Ordering::Acquire) {
            let _ = s.retire_prio.0.send(());
        }
    }

    /// Starts one worker; false when the OS refused the thread (EAGAIN
    /// at the process or cgroup limit), which is logged once until a
    /// start succeeds again.
    fn spawn(&self, prio: bool) -> bool {
        let shared = &self.shared;
        let counter = if prio {
            &shared.prio_workers
        } else {
            &shared.workers
        };
        counter.fetch_add(1, Ordering::AcqRel);
        let name = format!("{}-{}", shared.name, if prio { "prio" } else { "worker" });
        let s = Arc::clone(shared);
        let builder = thread::Builder::new().name(name).stack_size(WORKER_STACK);
        let res = (shared.spawner)(
            builder,
            Box::new(move || if prio { prio_loop(&s) } else { worker_loop(&s) }),
        );
        match res {
            Ok(()) => {
                if shared.spawn_failing.swap(false, Ordering::AcqRel) {
                    log::info!("{}: worker threads start again", shared.name);
                }
                true
            }
            Err(e) => {
                counter.fetch_sub(1, Ordering::AcqRel);
                if !shared.spawn_failing.swap(true, Ordering::AcqRel) {
                    log::error!(
                        "{}: cannot start a worker thread ({e}); carrying on with {} workers and {} priority workers",
                        shared.name,
                        shared.workers.load(Ordering::Acquire),
                        shared.prio_workers.load(Ordering::Acquire)
                    );
                }
                false
            }
        }
    }
}

fn worker_loop(s: &Shared) {
    loop {
        s.free.fetch_add(1, Ordering::AcqRel);
        let job = select! {
            recv(s.prio.1) -> j => j.ok(),
            recv(s.normal.1) -> j => j.ok(),
            recv(s.retire_normal.1) -> _ => None,
        };
        s.free.fetch_sub(1, Ordering::AcqRel);
        match job {
            Some(job) => run(job),
            None => break,
        }
    }
    s.workers.fetch_sub(1, Ordering::AcqRel);
}

fn prio_loop(s: &Shared) {
    loop {
        let job = select! {
            recv(s.prio.1) -> j => j.ok(),
            recv(s.retire_prio.1) -> _ => None,
        };
        match job {
            Some(job) => run(job),
            None => break,
        }
    }
    s.prio_workers.fetch_sub(1, Ordering::AcqRel);
}

fn run(job: Job) {
    // A panicking job is a bug, but it must not take the worker (and with
    // it the pool's count) down: contain it and log it.
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
        // A handler's panic is answered in Client::reply; this is one
        // outside it (sending the reply, say).
        log::error!("a call panicked outside its handler; its client may get no reply");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn wait_for(mut f: impl FnMut() -> bool) -> bool {
        for _ in 0..200 {
            if f() {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn grows_to_max_and_no_further() {
        let pool = WorkerPool::new(
            "t",
            PoolLimits {
                min: 1,
                max: 3,
                prio: 1,
            },
        );
        let (tx, rx) = mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..5 {
            let rx = Arc::clone(&rx);
            pool.submit(
                Box::new(move || {
                    let _ = rx.lock().map(|r| r.recv());
                }),
                false,
            );
        }
        assert!(wait_for(|| pool.stats().workers == 3));
        assert!(wait_for(|| pool.stats().queue_depth == 2));
        for _ in 0..5 {
            tx.send(()).unwrap();
        }
        assert!(wait_for(|| pool.stats().queue_depth == 0));
    }

    #[test]
    fn prio_worker_runs_high_jobs_when_pool_is_stuck() {
        let pool = WorkerPool::new(
            "t",
            PoolLimits {
                min: 1,
                max: 1,
                prio: 1,
            },
        );
        let (block_tx, block_rx) = mpsc::channel::<()>();
        pool.submit(
            Box::new(move || {
                let _ = block_rx.recv();
            }),
            false,
        );
        let (done_tx, done_rx) = mpsc::channel();
        pool.submit(
            Box::new(move || {
                let _ = done_tx.send(());
            }),
            true,
        );
        assert!(done_rx.recv_timeout(Duration::from_secs(5)).is_ok());
        block_tx.send(()).unwrap();
    }

    /// Keeps the messages of pools whose name starts with "nothreads".
    struct Capture(std::sync::Mutex<Vec<String>>);
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, r: &log::Record) {
            let m = r.args().to_string();
            if m.starts_with("nothreads") {
                self.0.lock().unwrap().push(m);
            }
        }
        fn flush(&self) {}
    }
    static CAPTURE: Capture = Capture(std::sync::Mutex::new(Vec::new()));

    fn capture_logs() {
        let _ = log::set_logger(&CAPTURE);
        log::set_max_level(log::LevelFilter::Info);
    }

    fn captured(pool: &str) -> Vec<String> {
        CAPTURE
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.starts_with(&format!("{pool}:")))
            .cloned()
            .collect()
    }

    /// Submits `jobs` jobs; every one must run.
    fn every_job_finishes(pool: &WorkerPool, jobs: usize, high: bool) {
        let (tx, rx) = mpsc::channel();
        for i in 0..jobs {
            let tx = tx.clone();
            pool.submit(
                Box::new(move || {
                    let _ = tx.send(i);
                }),
                high,
            );
        }
        let mut got: Vec<usize> = (0..jobs)
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("a job was lost")
            })
            .collect();
        got.sort();
        assert_eq!(got, (0..jobs).collect::<Vec<_>>());
    }

    #[test]
    fn a_pool_that_cannot_grow_carries_on_with_its_workers() {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        fn one_thread_only(b: thread::Builder, f: Job) -> std::io::Result<()> {
            if STARTS.fetch_add(1, Ordering::AcqRel) == 0 {
                os_spawn(b, f)
            } else {
                Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
            }
        }
        let limits = PoolLimits {
            min: 1,
            max: 8,
            prio: 2,
        };
        capture_logs();
        let pool = WorkerPool::with_spawner("nothreads-grow", limits, one_thread_only);
        assert!(wait_for(|| pool.stats().workers == 1));
        every_job_finishes(&pool, 50, false);
        every_job_finishes(&pool, 50, true);
        assert_eq!((pool.stats().workers, pool.stats().prio_workers), (1, 0));
        let logged = captured("nothreads-grow");
        assert_eq!(logged.len(), 1, "logged once: {logged:?}");
        assert!(
            logged[0].contains("cannot start a worker thread"),
            "{logged:?}"
        );
    }

    #[test]
    fn a_pool_with_no_thread_at_all_still_answers() {
        fn never(_: thread::Builder, _: Job) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
        }
        let limits = PoolLimits {
            min: 2,
            max: 4,
            prio: 1,
        };
        capture_logs();
        let pool = WorkerPool::with_spawner("nothreads-none", limits, never);
        every_job_finishes(&pool, 10, false);
        every_job_finishes(&pool, 10, true);
        let s = pool.stats();
        assert_eq!((s.workers, s.prio_workers, s.queue_depth), (0, 0, 0));
        assert_eq!(captured("nothreads-none").len(), 1);
    }

    #[test]
    fn shrinks_when_max_lowers() {
        let pool = WorkerPool::new(
            "t",
            PoolLimits {
                min: 4,
                max: 4,
                prio: 0,
            },
        );
        assert!(wait_for(|| pool.stats().workers == 4));
        pool.set_limits(PoolLimits {
            min: 1,
            max: 2,
            prio: 2,
        });
        assert!(wait_for(|| pool.stats().workers == 2));
        assert!(wait_for(|| pool.stats().prio_workers == 2));
    }

    #[test]
    fn fewer_priority_workers_retire_priority_workers_only() {
        let pool = WorkerPool::new(
            "t",
            PoolLimits {
                min: 5,
                max: 20,
                prio: 5,
            },
        );
        assert!(wait_for(
            || pool.stats().workers == 5 && pool.stats().prio_workers == 5
        ));
        pool.set_limits(PoolLimits {
            min: 5,
            max: 20,
            prio: 3,
        });
        assert!(wait_for(|| pool.stats().prio_workers == 3));
        // Give a wrongly retired normal worker time to show.
        thread::sleep(Duration::from_millis(100));
        assert_eq!(pool.stats().workers, 5);
        assert_eq!(pool.stats().prio_workers, 3);
    }
}
