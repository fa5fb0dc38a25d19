//! Signing in and out: the server functions, their wire types, and the rules both sides share.

mod api;
mod body;
mod error;
mod phone;
mod redirect;
mod wire;

pub use api::*;
pub use body::{ApiJson, MAX_BODY_BYTES};
pub use error::{ApiError, ErrorCode};
pub use phone::{mask_wire_phone, Phone, PhoneError, MAX_PHONE_INPUT_LEN};
pub use redirect::{encode_query_value, login_path_for, sanitize_from, HOME, MAX_FROM_LEN};
pub use wire::*;
