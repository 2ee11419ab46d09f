//! The sandboxed disk store's name resolution: any name it accepts lands
//! inside the root (after following links that exist), and any it refuses
//! gets a typed error whose code is one a client can act on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wirekit::store::{Store, check_path};
use wirekit_core::transfer::ErrorCode;

/// A root with the shapes that matter: a directory, a file, links that stay
/// inside, and links (symbolic and to a directory) that point out.
struct Sandbox {
    store: Store,
    _dir: PathBuf,
}

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("wirekit-fuzz-store-{}", std::process::id()));
        let root = dir.join("root");
        let outside = dir.join("outside");
        std::fs::create_dir_all(root.join("sub")).expect("root");
        std::fs::create_dir_all(&outside).expect("outside");
        std::fs::write(root.join("f"), b"in").expect("file");
        std::fs::write(outside.join("secret"), b"out").expect("secret");
        let link = |target: &Path, name: &str| {
            let _ = std::os::unix::fs::symlink(target, root.join(name));
        };
        link(Path::new("f"), "in_link");
        link(Path::new("sub"), "in_dir");
        link(&outside, "out_dir");
        link(&outside.join("secret"), "out_file");
        link(Path::new("../outside"), "up");
        Sandbox {
            store: Store::open(&root, false).expect("store"),
            _dir: dir,
        }
    })
}

/// The deepest existing ancestor of `path`, with its links followed.
fn real_prefix(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    loop {
        if let Ok(c) = p.canonicalize() {
            return c;
        }
        if !p.pop() {
            return p;
        }
    }
}

fuzz_target!(|name: &str| {
    let sb = sandbox();
    let root = sb.store.root();
    let checked = check_path(name);
    match sb.store.resolve(name) {
        Ok(full) => {
            assert!(
                checked.is_ok(),
                "{name:?} resolved though the text check refused it"
            );
            assert!(
                full.starts_with(root),
                "{name:?} -> {full:?} outside the root"
            );
            let real = real_prefix(&full);
            assert!(
                real.starts_with(root),
                "{name:?} -> {real:?} escapes through a link"
            );
        }
        Err(e) => {
            // 400 is a path through a file ("f/x": not a directory).
            let typed = matches!(
                e.code,
                ErrorCode::Denied
                    | ErrorCode::TooLarge
                    | ErrorCode::NotFound
                    | ErrorCode::BadRequest
                    | ErrorCode::Internal
            );
            assert!(typed, "{name:?} refused with {:?}", e.code);
            assert!(!e.message.is_empty(), "{name:?} refused without a reason");
        }
    }
});
