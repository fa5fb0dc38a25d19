//! Phone numbers as CloudBase spells them: `+86 13800000000`, and the masked form used when printing them.

/// The wire form of a mainland number (`+86 1xxxxxxxxxx`), from what the API accepts: that form, or the same
/// without the space (`+8613800000000`). Anything else is `None`.
pub(crate) fn normalize_wire(input: &str) -> Option<String> {
    let national = input
        .strip_prefix("+86 ")
        .or_else(|| input.strip_prefix("+86"))?;
    is_mainland_mobile(national).then(|| format!("+86 {national}"))
}

/// Like [`normalize_wire`], but also takes a bare national number (`13800000000`) and stray spaces: the
/// controls are for people and tests, who should not have to spell the wire format.
pub(crate) fn normalize_lenient(input: &str) -> Option<String> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let national = compact.strip_prefix("+86").unwrap_or(&compact);
    is_mainland_mobile(national).then(|| format!("+86 {national}"))
}

fn is_mainland_mobile(national: &str) -> bool {
    national.len() == 11
        && national.starts_with('1')
        && national.bytes().all(|b| b.is_ascii_digit())
}

/// The national part of a wire-format number (`"+86 13800000000"` → `"13800000000"`).
pub(crate) fn national_part(wire: &str) -> &str {
    wire.rsplit(' ').next().unwrap_or(wire)
}

/// Masks a phone number for printing: the first 3 and last 4 digits of the national number stay.
///
/// `"+86 13800000000"` → `"+86 138****0000"`. Numbers in any accepted format are normalised first; anything
/// else is masked the same way after its last space (or entirely, if that part is 7 characters or fewer), so that
/// a typo does not leak a number either.
pub fn mask_phone(phone: &str) -> String {
    let (prefix, national) = match normalize_lenient(phone) {
        Some(wire) => ("+86 ".to_owned(), national_part(&wire).to_owned()),
        None => match phone.trim().rsplit_once(' ') {
            Some((country, national)) => (format!("{country} "), national.to_owned()),
            None => (String::new(), phone.trim().to_owned()),
        },
    };
    let chars: Vec<char> = national.chars().collect();
    let masked: String = if chars.len() > 7 {
        let stars = "*".repeat(chars.len() - 7);
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}{stars}{tail}")
    } else {
        "*".repeat(chars.len())
    };
    format!("{prefix}{masked}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_normalisation_accepts_only_plus86_forms() {
        let cases: &[(&str, Option<&str>)] = &[
            ("+86 13800000000", Some("+86 13800000000")),
            ("+8613800000000", Some("+86 13800000000")),
            ("+86 19912345678", Some("+86 19912345678")),
            ("13800000000", None),
            ("+86 1380000000", None),
            ("+86 138000000000", None),
            ("+86 23800000000", None),
            ("+86  13800000000", None),
            ("+1 13800000000", None),
            ("+86 1380000000x", None),
            ("+86 １3800000000", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_wire(input).as_deref(),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn lenient_normalisation_also_takes_bare_and_spaced_numbers() {
        let cases: &[(&str, Option<&str>)] = &[
            ("13800000000", Some("+86 13800000000")),
            (" +86 138 0000 0000 ", Some("+86 13800000000")),
            ("+8613800000000", Some("+86 13800000000")),
            ("+44 7700900000", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_lenient(input).as_deref(),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn masking_keeps_first_three_and_last_four_digits() {
        let cases = [
            ("+86 13800000000", "+86 138****0000"),
            ("+8613812345678", "+86 138****5678"),
            ("13812345678", "+86 138****5678"),
            ("+44 7700900123", "+44 770***0123"),
            ("12345", "*****"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(mask_phone(input), expected, "input {input:?}");
        }
    }
}
