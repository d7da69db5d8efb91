//! moto started by several tests at the same moment: each gets a server of its own. The
//! launcher binds a port the system picks and reports it, so no two starts can be handed the
//! same port (picking a free port first and binding it later left a window for exactly that).

use std::thread;

use crate::common::moto_alone::start;

use acceptance_tests::skip_unless_acc;

const STARTS: usize = 3;

#[test]
fn acc_moto_parallel_starts_get_servers_of_their_own() {
    skip_unless_acc!();
    let started: Vec<_> = (0..STARTS)
        .map(|_| thread::spawn(start))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("moto start"))
        .collect();
    let mut urls: Vec<&str> = started.iter().map(|(moto, _)| moto.url()).collect();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), STARTS, "two starts share a port: {urls:?}");
    // Each server holds only what was written to it: no start reached another's moto.
    for (n, (moto, _)) in started.iter().enumerate() {
        let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
        moto.query(
            "iam",
            "CreateRole",
            &[
                ("RoleName", &format!("own-{n}")),
                ("AssumeRolePolicyDocument", policy),
            ],
        );
    }
    for (n, (moto, _)) in started.iter().enumerate() {
        assert_eq!(
            moto.iam_role_names(),
            [format!("own-{n}")],
            "{}",
            moto.url()
        );
    }
}
