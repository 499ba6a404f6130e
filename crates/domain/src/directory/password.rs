//! The password policy of an identity store, one-time passwords that satisfy it, and their
//! memory-hard hashing (Argon2id).

use crate::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub minimum_password_length: i32,
    pub require_lowercase_characters: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub require_uppercase_characters: bool,
    pub max_password_age: i32,
    pub password_reuse_prevention: i32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_password_length: 8,
            require_lowercase_characters: true,
            require_numbers: true,
            require_symbols: true,
            require_uppercase_characters: true,
            max_password_age: 90,
            password_reuse_prevention: 1,
        }
    }
}

/// UpdatePasswordPolicy: every field optional; what is given replaces the current value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicyUpdate {
    pub minimum_password_length: Option<i32>,
    pub require_lowercase_characters: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub require_uppercase_characters: Option<bool>,
    pub max_password_age: Option<i32>,
    pub password_reuse_prevention: Option<i32>,
}

fn bounded(field: &str, v: Option<i32>, min: i32, max: i32) -> Result<(), ApiError> {
    match v {
        Some(n) if !(min..=max).contains(&n) => Err(ApiError::bad_request(format!(
            "password_policy.{field} must be between {min} and {max}"
        ))),
        _ => Ok(()),
    }
}

impl PasswordPolicy {
    pub fn updated(&self, u: &PasswordPolicyUpdate) -> Result<PasswordPolicy, ApiError> {
        bounded("minimum_password_length", u.minimum_password_length, 8, 128)?;
        bounded("max_password_age", u.max_password_age, 1, 1095)?;
        bounded(
            "password_reuse_prevention",
            u.password_reuse_prevention,
            1,
            1,
        )?;
        Ok(PasswordPolicy {
            minimum_password_length: u
                .minimum_password_length
                .unwrap_or(self.minimum_password_length),
            require_lowercase_characters: u
                .require_lowercase_characters
                .unwrap_or(self.require_lowercase_characters),
            require_numbers: u.require_numbers.unwrap_or(self.require_numbers),
            require_symbols: u.require_symbols.unwrap_or(self.require_symbols),
            require_uppercase_characters: u
                .require_uppercase_characters
                .unwrap_or(self.require_uppercase_characters),
            max_password_age: u.max_password_age.unwrap_or(self.max_password_age),
            password_reuse_prevention: u
                .password_reuse_prevention
                .unwrap_or(self.password_reuse_prevention),
        })
    }

    /// Refuses a password the policy forbids, saying which rule it breaks.
    pub fn check(&self, password: &str) -> Result<(), ApiError> {
        let n = password.chars().count();
        if n < self.minimum_password_length as usize {
            return Err(ApiError::bad_request(format!(
                "password must be at least {} characters long",
                self.minimum_password_length
            )));
        }
        let rules = [
            (
                self.require_lowercase_characters,
                "a lowercase letter",
                password.chars().any(|c| c.is_lowercase()),
            ),
            (
                self.require_uppercase_characters,
                "an uppercase letter",
                password.chars().any(|c| c.is_uppercase()),
            ),
            (
                self.require_numbers,
                "a digit",
                password.chars().any(|c| c.is_ascii_digit()),
            ),
            (
                self.require_symbols,
                "a symbol",
                password.chars().any(|c| !c.is_alphanumeric()),
            ),
        ];
        for (required, what, present) in rules {
            if required && !present {
                return Err(ApiError::bad_request(format!(
                    "password must contain {what}"
                )));
            }
        }
        Ok(())
    }

    /// A fresh one-time password that satisfies this policy: at least 16 characters (more when
    /// the policy asks), one of every class, from the operating system's generator.
    pub fn generate_one_time_password(&self) -> String {
        const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
        const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
        const DIGITS: &[u8] = b"23456789";
        const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_";
        let len = (self.minimum_password_length as usize).max(16);
        let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
        let mut rng = OsRng;
        let mut out: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS]
            .iter()
            .map(|class| class[rng.gen_range(0..class.len())])
            .collect();
        while out.len() < len {
            out.push(all[rng.gen_range(0..all.len())]);
        }
        for i in (1..out.len()).rev() {
            out.swap(i, rng.gen_range(0..=i));
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string (`$argon2id$…`) of `password` with a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal())
}

/// Constant-time verification of `password` against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_satisfy_every_policy() {
        for min in [8, 16, 40, 128] {
            let p = PasswordPolicy {
                minimum_password_length: min,
                ..Default::default()
            };
            for _ in 0..20 {
                let pw = p.generate_one_time_password();
                assert!(pw.len() >= 16 && pw.len() >= min as usize);
                p.check(&pw).expect("complies");
            }
        }
    }

    #[test]
    fn check_names_the_broken_rule() {
        let p = PasswordPolicy::default();
        assert!(p.check("short1!A").is_ok());
        assert!(p
            .check("Sh1!")
            .expect_err("len")
            .message
            .contains("at least 8"));
        assert!(p
            .check("nouppercase1!")
            .expect_err("upper")
            .message
            .contains("uppercase"));
        assert!(p
            .check("NOLOWERCASE1!")
            .expect_err("lower")
            .message
            .contains("lowercase"));
        assert!(p
            .check("NoDigitsHere!")
            .expect_err("digit")
            .message
            .contains("digit"));
        assert!(p
            .check("NoSymbols123")
            .expect_err("symbol")
            .message
            .contains("symbol"));
    }

    #[test]
    fn updates_are_bounded() {
        let p = PasswordPolicy::default();
        let u = PasswordPolicyUpdate {
            minimum_password_length: Some(12),
            require_symbols: Some(false),
            ..Default::default()
        };
        let q = p.updated(&u).expect("ok");
        assert_eq!(q.minimum_password_length, 12);
        assert!(!q.require_symbols);
        assert!(q.require_numbers);
        for bad in [
            PasswordPolicyUpdate {
                minimum_password_length: Some(7),
                ..Default::default()
            },
            PasswordPolicyUpdate {
                minimum_password_length: Some(129),
                ..Default::default()
            },
            PasswordPolicyUpdate {
                max_password_age: Some(0),
                ..Default::default()
            },
            PasswordPolicyUpdate {
                password_reuse_prevention: Some(2),
                ..Default::default()
            },
        ] {
            assert!(p
                .updated(&bad)
                .expect_err("bounds")
                .message
                .contains("password_policy."));
        }
    }

    #[test]
    fn hashes_verify_and_differ() {
        let h1 = hash_password("Secret-123").expect("hash");
        let h2 = hash_password("Secret-123").expect("hash");
        assert!(h1.starts_with("$argon2id$"));
        assert_ne!(h1, h2, "salted");
        assert!(verify_password("Secret-123", &h1));
        assert!(!verify_password("Secret-124", &h1));
        assert!(!verify_password("x", "not a hash"));
    }
}
