//! E-mail addresses and their verification: an address is stored unverified and a link with a
//! single-use token is mailed to it; following the link verifies it. Only verified addresses
//! receive notification mails.

use agora_store::{EmailAddressRow, NewMail, TokenUse};
use alloy::primitives::Address;
use sha2::{Digest, Sha256};

use crate::mail::message_id;
use crate::{Error, Notifier, Result, now_ms};

/// How long a verification link works, seconds.
pub const TOKEN_TTL_SECS: u64 = 24 * 60 * 60;
/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Verification mails one account may ask for per hour (each goes to an address someone typed).
pub const MAX_LINKS_PER_HOUR: u64 = 5;

/// `raw` trimmed, if it is an address mail can be sent to; the error says what is wrong with it.
pub fn check_email(raw: &str) -> Result<String> {
    let email = raw.trim();
    let bad = |why: &str| Error::InvalidEmail(format!("{email:?} is not an e-mail address: {why}"));
    if email.is_empty() {
        return Err(bad("it is empty"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(bad(&format!("it is longer than {MAX_EMAIL_LEN} characters")));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>') {
        return Err(bad("it holds spaces, control characters or angle brackets"));
    }
    let parsed: lettre::Address = email.parse().map_err(|e| bad(&format!("{e}")))?;
    if !parsed.domain().contains('.') && parsed.domain() != "localhost" {
        return Err(bad("its domain has no dot"));
    }
    Ok(email.to_owned())
}

/// The SHA-256 of a token, as stored.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Notifier {
    /// Sets `account`'s address to `raw` and mails it a verification link under `origin`
    /// (`<origin>/#/verify-email?token=…`), valid for [`TOKEN_TTL_SECS`]. Setting the address it
    /// already has verified changes nothing and sends nothing.
    pub async fn set_email(&self, account: Address, raw: &str, origin: &str) -> Result<EmailAddressRow> {
        let email = check_email(raw)?;
        if let Some(current) = self.store.email_address(account).await?
            && current.email == email
            && current.verified_at.is_some()
        {
            return Ok(current);
        }
        let now_ms = now_ms();
        let now = now_ms / 1000;
        if self.store.email_tokens_since(account, now.saturating_sub(3600)).await? >= MAX_LINKS_PER_HOUR {
            return Err(Error::TooManyLinks(MAX_LINKS_PER_HOUR));
        }
        let token = random_token()?;
        let hash = token_hash(&token);
        let origin = origin.trim_end_matches('/');
        let link = format!("{origin}/#/verify-email?token={token}");
        let key = format!("verify-email:{hash}");
        let mail = NewMail {
            message_id: message_id(&key, &self.mail_domain),
            idempotency_key: key,
            recipient: account,
            to: email.clone(),
            subject: "Agora: confirm your e-mail address".into(),
            body: format!(
                "Someone (we hope you) asked Agora to send notifications for the account {account}\n\
                 to this address. To confirm it, open this link within 24 hours:\n\n{link}\n\n\
                 If it was not you, ignore this mail: nothing will be sent here.\n"
            ),
            created_at_ms: now_ms,
        };
        let row = self.store.set_email_address(account, &email, &hash, now + TOKEN_TTL_SECS, now, &mail).await?;
        self.wake.notify_one();
        Ok(row)
    }

    /// Follows a verification link's `token`.
    pub async fn verify_email(&self, token: &str) -> Result<TokenUse> {
        let token = token.trim();
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(TokenUse::Unknown);
        }
        Ok(self.store.use_email_token(&token_hash(&token.to_ascii_lowercase()), now_ms() / 1000).await?)
    }

    /// `account`'s address, verified or not.
    pub async fn email(&self, account: Address) -> Result<Option<EmailAddressRow>> {
        Ok(self.store.email_address(account).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_before_anything_is_sent() {
        assert_eq!(check_email("  ada@example.org ").ok().as_deref(), Some("ada@example.org"));
        assert!(check_email("ada@localhost").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "<ada@example.org>",
            "ada@exa\nmple.org",
        ] {
            assert!(matches!(check_email(bad), Err(Error::InvalidEmail(_))), "{bad:?}");
        }
        assert!(check_email(&format!("{}@example.org", "a".repeat(250))).is_err());
    }

    #[test]
    fn tokens_are_stored_as_their_hash() {
        let t = random_token().expect("random");
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
        assert_eq!(token_hash(&t), token_hash(&t));
    }
}
