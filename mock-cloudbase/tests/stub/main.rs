//! Integration tests of the stub, through real HTTP (reqwest) against started stubs. One binary, so it links
//! once.

mod controls;
mod environment;
mod faults;
mod helpers;
mod malformed;
mod phone_sessions;
mod sms;
mod tokens;
mod wechat;
