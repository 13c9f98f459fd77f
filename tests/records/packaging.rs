//! What the device install is made of: the Yocto recipe's crate list
//! against Cargo.lock, and the Debian package's contents against the units
//! and the /etc/perfuse files the binaries read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use perfuse_testkit::yocto::{crates_inc_for, CRATES_INC};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn the_recipe_fetches_exactly_the_crates_of_cargo_lock() {
    let wanted = crates_inc_for(root()).unwrap();
    let committed = read(CRATES_INC);
    if committed != wanted {
        let missing: Vec<&str> = wanted
            .lines()
            .filter(|line| !committed.lines().any(|have| have == *line))
            .take(5)
            .collect();
        let stale: Vec<&str> = committed
            .lines()
            .filter(|line| !wanted.lines().any(|want| want == *line))
            .take(5)
            .collect();
        panic!(
            "{CRATES_INC} does not match Cargo.lock (missing {missing:?}, stale {stale:?}): run \
             `cargo run -p perfuse-testkit --bin perfuse-crates-inc` and commit it"
        );
    }
    // Every crates.io package of the lock file is fetched, with its checksum.
    let lock = read("Cargo.lock");
    let registry = lock.matches("source = \"registry+").count();
    assert_eq!(committed.matches("crate://crates.io/").count(), registry);
    assert_eq!(committed.matches(".sha256sum] = \"").count(), registry);
}

/// The `[package.metadata.deb]` assets, as (source, destination).
fn deb_assets() -> Vec<(String, String)> {
    let manifest: toml::Value = read("Cargo.toml").parse().unwrap();
    manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| {
            let asset = asset.as_array().unwrap();
            (
                asset[0].as_str().unwrap().to_owned(),
                asset[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_debian_package_carries_what_the_units_start_and_read() {
    let assets = deb_assets();
    let installs = |destination: &str| assets.iter().any(|(_, to)| to == destination);
    let units = [
        "perfuse-supervisor.service",
        "perfuse-app.service",
        "perfuse-link.service",
    ];
    let mut wanted = Vec::new();
    for unit in units {
        let text = read(&format!("deploy/systemd/{unit}"));
        // Each unit's program, and each /etc/perfuse file it names.
        for word in text.split_whitespace() {
            if let Some(binary) = word.strip_prefix("ExecStart=/usr/bin/") {
                wanted.push(format!("usr/bin/{binary}"));
            } else if let Some(file) = word.strip_prefix("/etc/perfuse/") {
                wanted.push(format!("etc/perfuse/{file}"));
            }
        }
    }
    // The platform profile is chosen at install from the HAT identity; the
    // link's settings are the site's own (without them the link stays off).
    wanted.retain(|path| path != "etc/perfuse/platform.toml" && path != "etc/perfuse/link.toml");
    assert!(wanted.len() >= 6, "{wanted:?}");
    for path in &wanted {
        let installed = match path.strip_prefix("usr/bin/") {
            Some(binary) => assets
                .iter()
                .any(|(from, to)| to == "usr/bin/" && from.ends_with(&format!("/{binary}"))),
            None => installs(path),
        };
        assert!(installed, "the package does not install {path}");
    }
    // Signed files travel with their signatures.
    for (from, to) in &assets {
        if to.starts_with("etc/perfuse/") && to.ends_with(".toml") && from.contains("druglib") {
            assert!(installs(&format!("{to}.sig")), "{to} without its signature");
        }
    }
    // Both carriers' profiles, signed, for postinst to choose from, and each
    // product id postinst knows is one a signed profile names.
    let postinst = read("deploy/debian/postinst");
    for (profile, product) in [
        ("perfuse-s50-syringe", "0x5301"),
        ("perfuse-v1-volumetric", "0x5601"),
    ] {
        for suffix in [".toml", ".toml.sig"] {
            assert!(assets
                .iter()
                .any(|(from, to)| from.ends_with(&format!("{profile}{suffix}"))
                    && to == "usr/share/perfuse/platforms/"));
        }
        assert!(postinst.contains(&format!("{product}) echo {profile} ;;")));
        let signed = read(&format!("assets/platforms/{profile}.toml"));
        assert!(
            signed.contains(&format!("product_id = {product}")),
            "{profile}"
        );
    }
    // The same units, udev rules, users and state folders as the Yocto recipe.
    let recipe = read("yocto/meta-perfuse/recipes-perfuse/perfuse/perfuse_git.bb");
    for file in [
        "deploy/udev/60-perfuse.rules",
        "deploy/tmpfiles/perfuse.conf",
        "deploy/systemd/system.conf.d/perfuse-watchdog.conf",
    ] {
        assert!(assets.iter().any(|(from, _)| from == file), "{file}");
        assert!(recipe.contains(file), "the recipe does not install {file}");
    }
    for unit in units {
        assert!(recipe.contains(&format!("deploy/systemd/{unit}")), "{unit}");
    }
}
