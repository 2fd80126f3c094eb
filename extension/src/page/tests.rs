use super::*;

fn wandb(url: &str) -> Page {
    recognise(Site::Wandb, url)
}

fn liftoff(url: &str) -> Page {
    recognise(Site::Liftoff, url)
}

fn job(entity: &str, project: &str, name: &str, version: Option<&str>) -> Page {
    Page::Job {
        entity: entity.into(),
        project: project.into(),
        job: name.into(),
        version: version.map(str::to_owned),
    }
}

#[test]
fn wandb_pages() {
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/jobs"),
        Page::Jobs {
            entity: "acme".into(),
            project: "mnist".into()
        }
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/jobs/?sort=name#top"),
        wandb("https://wandb.ai/acme/mnist/jobs")
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/artifacts/job/job-train/v3/overview"),
        job("acme", "mnist", "job-train", Some("v3"))
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/artifacts/job/job-train"),
        job("acme", "mnist", "job-train", None)
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/artifacts/job/job-train:latest/files"),
        job("acme", "mnist", "job-train", Some("latest"))
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/runs/3xk2p9q1/overview?workspace=user-ada"),
        Page::Run {
            entity: "acme".into(),
            project: "mnist".into(),
            run: "3xk2p9q1".into()
        }
    );
    assert_eq!(
        wandb("https://wandb.ai/acme/mnist/sweeps/ab12cd34"),
        Page::Sweep {
            entity: "acme".into(),
            project: "mnist".into(),
            sweep: "ab12cd34".into()
        }
    );
    let home = Page::Launch {
        entity: None,
        queue: None,
    };
    assert_eq!(wandb("https://wandb.ai/launch"), home);
    assert_eq!(wandb("https://wandb.ai/launch/?tab=queues"), home);
    assert_eq!(
        wandb("https://wandb.ai/acme/launch/UnVuUXVldWU6MQ==/agents"),
        Page::Launch {
            entity: Some("acme".into()),
            queue: Some("UnVuUXVldWU6MQ==".into())
        }
    );
}

#[test]
fn what_is_not_a_page_we_know() {
    for url in [
        "https://wandb.ai/",
        "https://wandb.ai/acme",
        "https://wandb.ai/acme/mnist",
        "https://wandb.ai/acme/mnist/workspace",
        "https://wandb.ai/acme/mnist/artifacts/dataset/mnist/v0",
        "https://wandb.ai/settings/x/jobs",
        "https://wandb.ai/site/pricing/jobs",
        "chrome://extensions/",
        "not a url",
        "https://user:pw@wandb.ai/acme/mnist/jobs",
    ] {
        assert_eq!(wandb(url), Page::Other, "{url}");
    }
    // A project called `launch` still has runs.
    assert!(matches!(
        wandb("https://wandb.ai/acme/launch/runs/r1"),
        Page::Run { .. }
    ));
    assert_eq!(wandb("https://wandb.ai/acme/launch"), Page::Other);
}

#[test]
fn liftoff_pages() {
    assert_eq!(
        liftoff("http://127.0.0.1:8080/admin/proj/jobs"),
        Page::Jobs {
            entity: "admin".into(),
            project: "proj".into()
        }
    );
    assert_eq!(
        liftoff("http://127.0.0.1:8080/admin/proj/jobs/train/runs"),
        job("admin", "proj", "train", None)
    );
    assert_eq!(
        liftoff("http://127.0.0.1:8080/admin/proj/runs/r1"),
        Page::Run {
            entity: "admin".into(),
            project: "proj".into(),
            run: "r1".into()
        }
    );
    assert_eq!(
        liftoff("http://127.0.0.1:8080/launch/team/gpu/agents"),
        Page::Launch {
            entity: Some("team".into()),
            queue: Some("gpu".into())
        }
    );
    // W&B's shapes are not Liftoff's, and the other way round.
    assert_eq!(
        liftoff("http://127.0.0.1:8080/admin/proj/artifacts/job/train/v0"),
        Page::Other
    );
    assert_eq!(wandb("https://wandb.ai/admin/proj/jobs/train"), Page::Other);
    assert_eq!(liftoff("http://127.0.0.1:8080/connect"), Page::Other);
}

#[test]
fn segments_are_decoded() {
    assert_eq!(
        wandb("https://wandb.ai/my%20team/proj/artifacts/job/job-a%3Ab/v1"),
        Page::Job {
            entity: "my team".into(),
            project: "proj".into(),
            job: "job-a".into(),
            version: Some("b".into()),
        }
    );
    assert_eq!(percent_decode("100%"), "100%");
    assert_eq!(percent_decode("%zz%41"), "%zzA");
}

#[test]
fn job_links_on_the_same_site_only() {
    let page = "https://wandb.ai/acme/mnist/jobs";
    assert_eq!(
        job_link(
            Site::Wandb,
            page,
            "https://wandb.ai/acme/mnist/artifacts/job/job-train/latest"
        ),
        Some(JobTarget {
            entity: "acme".into(),
            project: "mnist".into(),
            job: "job-train".into(),
            version: Some("latest".into()),
        })
    );
    assert_eq!(
        job_link(
            Site::Wandb,
            page,
            "https://evil.example/acme/mnist/artifacts/job/job-train/latest"
        ),
        None
    );
    assert_eq!(
        job_link(Site::Wandb, page, "https://wandb.ai/acme/mnist/runs/r1"),
        None
    );
    let target = job_link(
        Site::Liftoff,
        "http://127.0.0.1:9/admin/proj/jobs",
        "http://127.0.0.1:9/admin/proj/jobs/train",
    );
    assert_eq!(
        target.map(|t| t.path()).as_deref(),
        Some("admin/proj/train")
    );
}
