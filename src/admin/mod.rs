//! The ADMIN program (0x06900690) on the admin socket.
