//! API keys: 40 hex characters, stored as SHA-256 hashes, presented as HTTP
//! Basic `api:<key>` (or `Bearer <key>`).

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random API key (40 hex characters, like W&B's).
pub fn generate_key() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database stores for a key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// Keys must look like keys; a clear message otherwise.
pub fn validate_key(key: &str) -> Result<(), String> {
    let k = key.trim();
    if k.len() < 16
        || k.len() > 128
        || !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("an API key is 16 to 128 letters, digits, '-' or '_' (Liftoff generates 40 hex characters)".into());
    }
    Ok(())
}

/// The key in an `Authorization` header: Basic with any user (W&B sends
/// `api`), or Bearer.
pub fn key_from_header(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(token) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (_, key) = text.split_once(':')?;
        return (!key.is_empty()).then(|| key.to_owned());
    }
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        return (!token.trim().is_empty()).then(|| token.trim().to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let k = generate_key();
        assert_eq!(k.len(), 40);
        assert!(validate_key(&k).is_ok());
        assert!(validate_key("short").is_err());
        assert_eq!(hash_key(&k).len(), 64);
        assert_ne!(hash_key(&k), k);
        assert_eq!(
            key_from_header("Basic YXBpOmsxMjM=").as_deref(),
            Some("k123")
        );
        assert_eq!(key_from_header("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(key_from_header("Basic !!!"), None);
        assert_eq!(key_from_header("Digest x"), None);
    }
}
