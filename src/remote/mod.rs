//! The REMOTE program (0x20008086): the hypervisor API on the main sockets.
