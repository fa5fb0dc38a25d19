//! The app through real HTTP: the app on a free port, a CloudBase stub started by each test, and
//! a client with its own cookie jar and redirects off, like one browser.

mod guard;
mod helpers;
mod hostile;
mod session;
mod sms_login;
mod wechat;
