//! The `virtvzd` binary: everything lives in the library; this only runs it.

fn main() {
    std::process::exit(virtvzd::daemon::run());
}
