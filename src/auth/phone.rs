//! Mainland China phone numbers: what a person may type, and the one form CloudBase is sent.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest input the normaliser looks at; anything longer is rejected unread.
pub const MAX_PHONE_INPUT_LEN: usize = 32;

/// A validated mainland mobile number, kept as its 11 national digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phone(String);

/// Why a typed phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter your phone number.")]
    Empty,
    #[error("Only mainland China numbers (+86) can receive a sign-in code.")]
    NotMainland,
    #[error("Enter an 11-digit mainland mobile number, such as 138 0013 8000.")]
    BadFormat,
}

impl Phone {
    /// Accepts `13800138000`, `+86 13800138000`, `+8613800138000`, `86 138 0013 8000` or with
    /// dashes; ASCII digits only, so full-width or other Unicode digits are refused rather than
    /// silently converted.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        if input.len() > MAX_PHONE_INPUT_LEN {
            return Err(PhoneError::BadFormat);
        }
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        // `+86` and the international dialling prefix `0086` say the same thing.
        let (has_plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => match trimmed.strip_prefix("00") {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            },
        };
        let mut digits = String::with_capacity(13);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                // Separators people type between groups; never at the start of the digits.
                ' ' | '-' if !digits.is_empty() => {}
                _ => return Err(PhoneError::BadFormat),
            }
        }
        let national = match (has_plus, digits.len()) {
            (_, 13) if digits.starts_with("86") => &digits[2..],
            (true, _) if digits.starts_with("86") => return Err(PhoneError::BadFormat),
            (true, _) => return Err(PhoneError::NotMainland),
            (false, 11) => digits.as_str(),
            _ => return Err(PhoneError::BadFormat),
        };
        // Mainland mobile numbers are 1, then 3 to 9.
        let mobile = national.len() == 11
            && national.starts_with('1')
            && matches!(national.as_bytes()[1], b'3'..=b'9');
        if !mobile {
            return Err(PhoneError::BadFormat);
        }
        Ok(Self(national.to_owned()))
    }

    /// The wire form CloudBase expects: `+86 13800138000`.
    pub fn e164_spaced(&self) -> String {
        format!("+86 {}", self.0)
    }

    /// The form safe to show and to log: `+86 138****8000`.
    pub fn masked(&self) -> String {
        format!("+86 {}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Display for Phone {
    /// Displays masked, so that a stray `{}` in a log line never prints a full number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks a number in CloudBase's wire form (`+86 13800138000`) for display; other shapes are
/// hidden entirely.
pub fn mask_wire_phone(wire: &str) -> String {
    Phone::parse(wire)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "hidden number".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_normalise_to_the_same_number() {
        for input in [
            "13800138000",
            " 13800138000 ",
            "+86 13800138000",
            "+8613800138000",
            "86 138 0013 8000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "0086 13800138000",
        ] {
            let phone = Phone::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(phone.e164_spaced(), "+86 13800138000", "{input:?}");
        }
    }

    #[test]
    fn refused_forms_say_why() {
        let cases: &[(&str, PhoneError)] = &[
            ("", PhoneError::Empty),
            ("   ", PhoneError::Empty),
            ("+1 4155550100", PhoneError::NotMainland),
            ("+44 7700900123", PhoneError::NotMainland),
            ("1380013800", PhoneError::BadFormat),
            ("138001380001", PhoneError::BadFormat),
            ("23800138000", PhoneError::BadFormat),
            ("12345678901", PhoneError::BadFormat),
            ("+86 1380013800", PhoneError::BadFormat),
            ("+86 138001380011", PhoneError::BadFormat),
            ("1380013800a", PhoneError::BadFormat),
            ("１３８００１３８０００", PhoneError::BadFormat),
            ("١٣٨٠٠١٣٨٠٠٠", PhoneError::BadFormat),
            (" -13800138000", PhoneError::BadFormat),
            ("++8613800138000", PhoneError::BadFormat),
            ("138 0013 8000 ext 1", PhoneError::BadFormat),
        ];
        for (input, want) in cases {
            assert_eq!(Phone::parse(input), Err(*want), "{input:?}");
        }
        assert_eq!(
            Phone::parse(&"1".repeat(10_000)),
            Err(PhoneError::BadFormat)
        );
    }

    #[test]
    fn masking_keeps_three_and_four_digits() {
        let phone = Phone::parse("13800138000").expect("valid");
        assert_eq!(phone.masked(), "+86 138****8000");
        assert_eq!(phone.to_string(), "+86 138****8000");
        assert_eq!(mask_wire_phone("+86 13912345678"), "+86 139****5678");
        assert_eq!(mask_wire_phone("garbage"), "hidden number");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Any mainland mobile number, as 11 national digits.
        fn mobile() -> impl Strategy<Value = String> {
            "1[3-9][0-9]{9}"
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            #[test]
            fn any_input_is_a_valid_number_or_a_typed_refusal(input in prop_oneof![
                any::<String>(),
                "[+0-9 \\-\u{ff10}-\u{ff19}\u{0660}-\u{0669}a]{0,20}",
            ]) {
                if let Ok(phone) = Phone::parse(&input) {
                    let wire = phone.e164_spaced();
                    let national = wire.strip_prefix("+86 ").expect("+86");
                    prop_assert_eq!(national.len(), 11);
                    prop_assert!(national.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert!(national.starts_with('1'));
                    prop_assert!((b'3'..=b'9').contains(&national.as_bytes()[1]));
                    // Every digit of the result was typed as an ASCII digit, in order.
                    let typed: String = input.chars().filter(char::is_ascii_digit).collect();
                    prop_assert!(typed.ends_with(national));
                    prop_assert_eq!(Phone::parse(&wire), Ok(phone));
                }
            }

            #[test]
            fn every_usual_way_of_typing_a_number_gives_that_number(
                national in mobile(),
                form in 0usize..5,
            ) {
                let typed = match form {
                    0 => national.clone(),
                    1 => format!("+86{national}"),
                    2 => format!("+86 {} {} {}", &national[..3], &national[3..7], &national[7..]),
                    3 => format!("0086 {national}"),
                    _ => format!(" {}-{}-{} ", &national[..3], &national[3..7], &national[7..]),
                };
                let phone = Phone::parse(&typed).expect("a valid number");
                prop_assert_eq!(phone.e164_spaced(), format!("+86 {national}"));
                prop_assert_eq!(
                    phone.masked(),
                    format!("+86 {}****{}", &national[..3], &national[7..])
                );
            }
        }
    }
}
