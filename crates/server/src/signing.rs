//! Signed, short-lived URLs for uploads and downloads: the SDK sends no
//! `Authorization` with file transfers, so the URL itself must prove it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a signed URL lets its holder do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Grant {
    /// PUT the content of an artifact file (checked against its MD5).
    #[serde(rename = "af")]
    ArtifactFile { a: i64, name: String, md5: String },
    /// PUT an artifact's manifest.
    #[serde(rename = "am")]
    Manifest { a: i64 },
    /// PUT a run file.
    #[serde(rename = "rf")]
    RunFile { r: i64, name: String },
    /// GET an object.
    #[serde(rename = "get")]
    Get { key: String, name: String },
}

#[derive(Serialize, Deserialize)]
struct Token {
    #[serde(flatten)]
    grant: Grant,
    exp: i64,
}

pub fn sign(key: &[u8], grant: Grant, expires_at_ms: i64) -> String {
    let payload = serde_json::to_vec(&Token {
        grant,
        exp: expires_at_ms,
    })
    .unwrap_or_default();
    let body = URL_SAFE_NO_PAD.encode(&payload);
    format!(
        "{body}.{}",
        URL_SAFE_NO_PAD.encode(mac(key, body.as_bytes()))
    )
}

/// The grant of a valid, unexpired token.
pub fn verify(key: &[u8], token: &str, now_ms: i64) -> Result<Grant, &'static str> {
    let (body, sig) = token.split_once('.').ok_or("malformed link")?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| "malformed link")?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| "bad key")?;
    m.update(body.as_bytes());
    m.verify_slice(&sig)
        .map_err(|_| "this link's signature is not valid")?;
    let payload = URL_SAFE_NO_PAD.decode(body).map_err(|_| "malformed link")?;
    let token: Token = serde_json::from_slice(&payload).map_err(|_| "malformed link")?;
    if token.exp < now_ms {
        return Err("this link has expired; ask for a new one");
    }
    Ok(token.grant)
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let g = Grant::RunFile {
            r: 3,
            name: "output.log".into(),
        };
        let t = sign(b"k", g.clone(), 100);
        assert_eq!(verify(b"k", &t, 50), Ok(g));
        assert_eq!(
            verify(b"k", &t, 101),
            Err("this link has expired; ask for a new one")
        );
        assert!(verify(b"other", &t, 50).is_err());
        let mut forged = t.clone();
        forged.replace_range(0..1, "X");
        assert!(verify(b"k", &forged, 50).is_err());
    }
}
