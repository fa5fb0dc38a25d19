//! The pages, one file each, and the layouts that enforce each route's access in the browser.

mod guards;
mod home;
mod login;
mod not_found;

pub use guards::{GuestOnly, SignedInOnly};
pub use home::Home;
pub use login::{Login, WechatCallback};
pub use not_found::NotFound;
