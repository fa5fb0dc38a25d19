//! A CloudBase sign-in app: SMS codes and WeChat QR login, with the session kept on the server.

pub mod app;
pub mod auth;
pub mod route;
pub mod views;

#[cfg(feature = "server")]
pub mod server;
