//! End-to-end tests: the real `virtvzd` binary on private sockets, driven by
//! the real virsh, virt-admin and python3-libvirt, and by a raw client for
//! what real clients never send.

mod abuse;
mod admin;
mod cache;
mod daemon;
mod devices;
mod domain;
mod events;
mod faults;
mod gaps;
mod harness;
mod rpc;
mod sdk;
mod snapshots;
mod soak;
mod unsupported;
mod volume;
mod wire;
