//! The browser side of the fake WeChat QR login, under `/__mock/wechat/`: the QR page that `provider/uri` points
//! to, its Confirm (`#confirm`) and Cancel (`#cancel`) links, and the avatar picture of fake WeChat users.
//!
//! The page stands in for `open.weixin.qq.com/connect/qrconnect`: no external resources, inline CSS, no script.
//! Confirm sends the browser to `redirect_uri?code=…&state=…`, Cancel to `redirect_uri?state=…`.

use wiremock::Request;

use super::http::{required_param, Answer, Reply};
use crate::choices;
use crate::error::ApiError;
use crate::state::{after, random_token, Shared, State, WechatCode, WechatTicket};

/// The live, unconfirmed ticket named by the `ticket` query parameter.
fn live_ticket<'a>(
    state: &'a mut State,
    request: &Request,
) -> Result<&'a mut WechatTicket, ApiError> {
    let id = required_param(request, "ticket")?;
    let now = state.now();
    let ticket = state.wechat_tickets.get_mut(&id).ok_or_else(|| {
        ApiError::new(
            choices::NOT_FOUND,
            "unknown QR ticket; start the WeChat login again",
        )
    })?;
    if ticket.used {
        return Err(ApiError::invalid_argument(
            "this QR code was already confirmed or cancelled; start the WeChat login again",
        ));
    }
    if now >= ticket.expires_at {
        return Err(ApiError::invalid_argument(
            "this QR code has expired; start the WeChat login again",
        ));
    }
    Ok(ticket)
}

/// `GET /__mock/wechat/qrconnect?ticket=…`: the QR page.
pub(crate) fn qr_page(shared: &Shared, request: &Request) -> Answer {
    let mut state = shared.state.lock();
    let ticket_id = required_param(request, "ticket")?;
    let ticket = live_ticket(&mut state, request)?;
    let ticket_query: String = url::form_urlencoded::byte_serialize(ticket_id.as_bytes()).collect();
    Ok(Reply::Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WeChat login (mock)</title>
<link rel="icon" href="data:,">
<style>
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #2e2e2e; font-family: -apple-system, "Helvetica Neue", Arial, sans-serif; color: #222; }}
  main {{ background: #fff; border-radius: 8px; padding: 32px 40px; text-align: center; width: 300px; }}
  h1 {{ font-size: 20px; margin: 0 0 4px; }}
  .note {{ color: #888; font-size: 12px; margin: 0 0 20px; }}
  .qr {{ width: 210px; height: 210px; margin: 0 auto 16px; border: 1px solid #e5e5e5; padding: 8px; }}
  .qr svg {{ width: 100%; height: 100%; display: block; }}
  .who {{ font-size: 14px; margin: 0 0 20px; overflow-wrap: anywhere; }}
  .actions {{ display: flex; gap: 12px; justify-content: center; }}
  .button {{ display: inline-block; padding: 10px 22px; border-radius: 4px; text-decoration: none;
            font-size: 15px; border: 1px solid #ccc; color: #222; background: #f5f5f5; }}
  .button.primary {{ background: #07c160; border-color: #07c160; color: #fff; }}
</style>
</head>
<body>
<main>
  <h1>WeChat login</h1>
  <p class="note">mock-cloudbase stand-in for the WeChat QR page</p>
  <div class="qr" role="img" aria-label="QR code (fake)">{qr}</div>
  <p class="who">Scan as <strong id="nickname">{nickname}</strong><br><small id="openid">{openid}</small></p>
  <div class="actions">
    <a id="confirm" class="button primary" href="/__mock/wechat/confirm?ticket={ticket_query}">Confirm</a>
    <a id="cancel" class="button" href="/__mock/wechat/cancel?ticket={ticket_query}">Cancel</a>
  </div>
</main>
</body>
</html>
"#,
        qr = fake_qr_svg(&ticket_id),
        nickname = html_escape(&ticket.identity.nickname),
        openid = html_escape(&ticket.identity.openid),
    )))
}

/// `GET /__mock/wechat/confirm?ticket=…`: the user "scanned and confirmed": 302 to `redirect_uri?code&state`.
pub(crate) fn confirm(shared: &Shared, request: &Request) -> Answer {
    let mut state = shared.state.lock();
    let now = state.now();
    let ticket = live_ticket(&mut state, request)?;
    ticket.used = true;
    let (redirect_uri, oauth_state, identity) = (
        ticket.redirect_uri.clone(),
        ticket.state.clone(),
        ticket.identity.clone(),
    );
    let code = random_token(24);
    let location = back_to(&redirect_uri, Some(&code), &oauth_state)?;
    state.wechat_codes.insert(
        code,
        WechatCode {
            redirect_uri,
            identity,
            expires_at: after(now, choices::WECHAT_CODE_TTL),
            used: false,
        },
    );
    Ok(Reply::Redirect(location))
}

/// `GET /__mock/wechat/cancel?ticket=…`: the user refused: 302 to `redirect_uri?state` (no code).
pub(crate) fn cancel(shared: &Shared, request: &Request) -> Answer {
    let mut state = shared.state.lock();
    let ticket = live_ticket(&mut state, request)?;
    ticket.used = true;
    Ok(Reply::Redirect(back_to(
        &ticket.redirect_uri,
        None,
        &ticket.state,
    )?))
}

/// `GET /__mock/wechat/avatar.svg`: the picture of fake WeChat users, served here so that pages showing it need
/// no outside network.
pub(crate) fn avatar() -> Answer {
    Ok(Reply::Svg(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><rect width="64" height="64" rx="8" fill="#07c160"/><circle cx="32" cy="25" r="12" fill="#fff"/><path d="M12 56c2-12 10-18 20-18s18 6 20 18z" fill="#fff"/></svg>"##
            .to_owned(),
    ))
}

/// `redirect_uri` with `code` (if any) and `state` appended to its query, URL-encoded.
fn back_to(redirect_uri: &str, code: Option<&str>, oauth_state: &str) -> Result<String, ApiError> {
    // provider/uri accepted only URLs that parse, so this fails only if that check is ever loosened.
    let mut url = url::Url::parse(redirect_uri).map_err(|err| {
        ApiError::new(
            choices::INTERNAL,
            format!("stored redirect_uri does not parse: {err}"),
        )
    })?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(code) = code {
            query.append_pair("code", code);
        }
        query.append_pair("state", oauth_state);
    }
    Ok(url.to_string())
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A QR-looking 25×25 SVG: three finder squares and a pattern drawn from the ticket (FNV-1a), so every ticket
/// looks different. It encodes nothing.
fn fake_qr_svg(seed: &str) -> String {
    const SIZE: u32 = 25;
    let in_finder = |x: u32, y: u32| {
        let corner = |cx: u32, cy: u32| x >= cx && x < cx + 7 && y >= cy && y < cy + 7;
        corner(0, 0) || corner(SIZE - 7, 0) || corner(0, SIZE - 7)
    };
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut path = String::new();
    for y in 0..SIZE {
        for x in 0..SIZE {
            let dark = if in_finder(x, y) {
                let (fx, fy) = (x % (SIZE - 7) % 7, y % (SIZE - 7) % 7);
                let ring = fx == 0 || fx == 6 || fy == 0 || fy == 6;
                let eye = (2..=4).contains(&fx) && (2..=4).contains(&fy);
                ring || eye
            } else {
                hash ^= u64::from(y * SIZE + x);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
                hash >> 61 < 4
            };
            if dark {
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" shape-rendering="crispEdges"><path d="{path}" fill="#111"/></svg>"##
    )
}
