//! How a decision from the image facts cites them: the image's ID and what was seen, so a
//! reader can check the claim against the facts file (or `docker image inspect`).

use super::Service;
use crate::facts::{Image, Init, InitKind};

/// The image's ID as `docker images` shows it (12 hex digits).
pub fn id(image: &Image) -> &str {
    let hex = image.id.strip_prefix("sha256:").unwrap_or(&image.id);
    hex.get(..12).unwrap_or(hex)
}

/// How a message names the service's image: `` `app:1` (image ID 3986e7e1a6f2) ``, or the
/// image the service builds.
pub fn image(service: &Service, image: &Image) -> String {
    match service.image() {
        Some(reference) => format!("`{reference}` (image ID {})", id(image)),
        None => format!("the image `{}` builds (image ID {})", service.name, id(image)),
    }
}

/// The init the image starts as it runs for this service: none where the service replaces
/// the entrypoint (or, for an image without one, the command) that starts it.
pub fn init<'a>(service: &Service, image: &'a Image) -> Option<&'a Init> {
    let init = image.init.as_ref()?;
    let replaced = service.is_set(&["entrypoint"]) || (image.entrypoint.is_none() && service.is_set(&["command"]));
    (!replaced).then_some(init)
}

/// `s6-overlay's /init (seen: /package/admin/s6-overlay)`, `tini (/sbin/tini)`.
pub fn init_text(init: &Init) -> String {
    match (&init.kind, &init.marker) {
        (InitKind::S6Overlay, Some(marker)) => format!("s6-overlay's `{}` (seen: `{marker}`)", init.path),
        (kind, _) => format!("{} (`{}`)", kind.name(), init.path),
    }
}
