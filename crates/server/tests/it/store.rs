//! The store conformance suite: the same checks on every backend.

use std::collections::HashSet;
use std::sync::Arc;

use liftoff_server::store::{ItemCensus, LiveUpdate, NewArtifact, QueueFields, RunFields, Store};

use crate::backends::each;

const LEASE: i64 = 60_000;

fn fields(mode: &str) -> QueueFields {
    QueueFields {
        access: "PROJECT".into(),
        prioritization_mode: mode.into(),
        resource_config_id: None,
        external_links: "{\"links\":[]}".into(),
        max_retries: 0,
    }
}

async fn queue(s: &dyn Store, mode: &str) -> i64 {
    let user = s.user_create("alice", None, false, 1).await.unwrap();
    let entity = s.entity_by_name(&user.username).await.unwrap().unwrap();
    let (project, inserted) = s
        .project_upsert(entity.id, "model-registry", 1)
        .await
        .unwrap();
    assert!(inserted);
    s.queue_create(project.id, "default", &fields(mode), "alice", 1)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn users_entities_and_membership() {
    each(|s| async move {
        let alice = s
            .user_create("alice", Some("a@example.com"), true, 1)
            .await
            .unwrap();
        let bob = s.user_create("bob", None, false, 1).await.unwrap();
        assert!(matches!(
            s.user_create("alice", None, false, 2).await,
            Err(liftoff_server::store::Error::Conflict(_))
        ));
        s.api_key_add(alice.id, "hash-a", "default", 1)
            .await
            .unwrap();
        assert_eq!(
            s.user_by_key_hash("hash-a").await.unwrap().unwrap().id,
            alice.id
        );
        assert!(s.user_by_key_hash("nope").await.unwrap().is_none());
        // Keys revoked but one (a leaked key replaced); other users' stay.
        s.api_key_add(alice.id, "hash-a2", "added", 2)
            .await
            .unwrap();
        s.api_key_add(bob.id, "hash-b", "default", 2).await.unwrap();
        assert_eq!(s.api_key_count(alice.id).await.unwrap(), 2);
        assert_eq!(
            s.api_keys_revoke_others(alice.id, "hash-a2").await.unwrap(),
            1
        );
        assert!(s.user_by_key_hash("hash-a").await.unwrap().is_none());
        assert_eq!(
            s.user_by_key_hash("hash-a2").await.unwrap().unwrap().id,
            alice.id
        );
        assert_eq!(
            s.user_by_key_hash("hash-b").await.unwrap().unwrap().id,
            bob.id
        );
        assert_eq!(s.api_key_count(alice.id).await.unwrap(), 1);
        let names: Vec<String> = s
            .users_all()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        let team = s.team_create("ml-team", 1).await.unwrap();
        assert!(team.is_team);
        s.member_add(team.id, alice.id).await.unwrap();
        s.member_add(team.id, alice.id).await.unwrap();
        let names: Vec<String> = s
            .entities_of_user(alice.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["alice", "ml-team"]);
        assert!(!s.member_is(team.id, bob.id).await.unwrap());
        assert_eq!(s.user_count().await.unwrap(), 2);
        assert_eq!(s.setting_init("secret", "one").await.unwrap(), "one");
        assert_eq!(s.setting_init("secret", "two").await.unwrap(), "one");
    })
    .await;
}

#[tokio::test]
async fn the_admin_key_variable_counts_on_an_empty_store_only_and_says_so_later() {
    each(|s| async move {
        let dir = tempfile::tempdir().unwrap();
        let first = "0123456789abcdef0123456789abcdef01234567";
        let boot = liftoff_server::bootstrap(&*s, dir.path(), Some(first), 1)
            .await
            .unwrap();
        assert_eq!(boot.new_key.as_deref(), Some(first));
        assert!(!boot.env_key_unknown);
        // The same key again: known, nothing to say.
        let again = liftoff_server::bootstrap(&*s, dir.path(), Some(first), 2)
            .await
            .unwrap();
        assert!((again.new_key.is_none(), again.env_key_unknown) == (true, false));
        // Another key on a store that has its admin: ignored, and said to be.
        let other = "ffffffffffffffffffffffffffffffffffffffff";
        let changed = liftoff_server::bootstrap(&*s, dir.path(), Some(other), 3)
            .await
            .unwrap();
        assert!(changed.new_key.is_none());
        assert!((changed.env_key_unknown, changed.admin_missing) == (true, false));
        assert_eq!(s.user_count().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn users_made_before_the_first_start_leave_no_admin_and_that_is_said() {
    each(|s| async move {
        let dir = tempfile::tempdir().unwrap();
        s.user_create("alice", None, false, 1).await.unwrap();
        let key = "0123456789abcdef0123456789abcdef01234567";
        let boot = liftoff_server::bootstrap(&*s, dir.path(), Some(key), 2)
            .await
            .unwrap();
        assert!(boot.new_key.is_none(), "no admin is made next to alice");
        assert!((boot.env_key_unknown, boot.admin_missing) == (true, true));
        // Without the variable there is nothing to say.
        let quiet = liftoff_server::bootstrap(&*s, dir.path(), None, 3)
            .await
            .unwrap();
        assert!(!quiet.env_key_unknown && !quiet.admin_missing);
    })
    .await;
}

#[tokio::test]
async fn a_postgres_server_that_is_not_there_is_named_with_its_own_error() {
    // Port 1 on this machine: nothing listens, the connection is refused.
    let dir = tempfile::tempdir().unwrap();
    let err = liftoff_server::open_store(dir.path(), Some("postgres://nobody@127.0.0.1:1/x"))
        .await
        .err()
        .expect("no store without a server")
        .to_string();
    assert!(err.starts_with("cannot connect to PostgreSQL"), "{err}");
    assert!(
        err.to_lowercase().contains("refused"),
        "the cause, not a pool timeout: {err}"
    );
}

#[tokio::test]
async fn pop_serves_priority_then_fifo_and_leases() {
    each(|s| async move {
        let q = queue(&*s, "V0").await;
        let low = s
            .item_push(q, "{\"n\":1}", None, 3, "alice", 10)
            .await
            .unwrap();
        let med1 = s
            .item_push(q, "{\"n\":2}", None, 2, "alice", 11)
            .await
            .unwrap();
        let crit = s
            .item_push(q, "{\"n\":3}", None, 0, "alice", 12)
            .await
            .unwrap();
        let med2 = s
            .item_push(q, "{\"n\":4}", None, 2, "alice", 13)
            .await
            .unwrap();
        let mut order = vec![];
        while let Some(item) = s.item_pop(q, Some(7), true, 100, LEASE).await.unwrap() {
            assert_eq!(item.state, "LEASED");
            assert_eq!(item.agent_id, Some(7));
            assert_eq!(item.lease_expires_at, Some(100 + LEASE));
            order.push(item.id);
        }
        assert_eq!(order, [crit.id, med1.id, med2.id, low.id]);
    })
    .await;
}

/// An item's template values are kept as given, and a retry keeps them
/// with one more retry counted.
#[tokio::test]
async fn template_values_are_kept_by_an_item_and_its_retry() {
    each(|s| async move {
        let q = queue(&*s, "V0").await;
        let values = r#"{"gpus": 2, "mem": "8g"}"#;
        let item = s
            .item_push(q, "{}", Some(values), 1, "alice", 10)
            .await
            .unwrap();
        assert_eq!(item.template_values.as_deref(), Some(values));
        let again = s.item_push_retry(&item, "{\"n\":2}", 20).await.unwrap();
        let read = s.item_get(again.id).await.unwrap().unwrap();
        assert_eq!(read.template_values.as_deref(), Some(values));
        assert_eq!((read.retries, read.priority, read.queue_id), (1, 1, q));
        assert_eq!(read.run_spec, "{\"n\":2}");
        let plain = s.item_push(q, "{}", None, 2, "alice", 30).await.unwrap();
        assert_eq!(
            s.item_get(plain.id).await.unwrap().unwrap().template_values,
            None
        );
    })
    .await;
}

#[tokio::test]
async fn ack_is_fenced_by_lease_and_happens_once() {
    each(|s| async move {
        let q = queue(&*s, "DISABLED").await;
        let item = s.item_push(q, "{}", None, 2, "alice", 0).await.unwrap();
        let first = s
            .item_pop(q, Some(1), false, 1_000, LEASE)
            .await
            .unwrap()
            .unwrap();
        // Not acked within the lease: another agent gets it with a new lease.
        assert!(
            s.item_pop(q, Some(2), false, 1_000 + LEASE - 1, LEASE)
                .await
                .unwrap()
                .is_none()
        );
        let second = s
            .item_pop(q, Some(2), false, 1_000 + LEASE + 1, LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.id, item.id);
        assert!(second.lease_seq > first.lease_seq);
        // The first agent's late ack is refused; the current lease's is taken, once.
        let now = 1_000 + LEASE + 2;
        assert!(
            !s.item_ack_if_leased(item.id, Some(first.lease_seq), "run-a", now)
                .await
                .unwrap()
        );
        assert!(
            s.item_ack_if_leased(item.id, Some(second.lease_seq), "run-b", now)
                .await
                .unwrap()
        );
        assert!(
            !s.item_ack_if_leased(item.id, Some(second.lease_seq), "run-b", now)
                .await
                .unwrap()
        );
        assert!(
            !s.item_ack_if_leased(item.id, None, "run-c", now)
                .await
                .unwrap()
        );
        let got = s.item_get(item.id).await.unwrap().unwrap();
        assert_eq!(
            (got.state.as_str(), got.associated_run_id.as_deref()),
            ("CLAIMED", Some("run-b"))
        );
        // The run finds its item; the refused acks left no trace.
        let of_run = s.items_of_run("run-b", 5, None).await.unwrap();
        assert_eq!(of_run.iter().map(|i| i.id).collect::<Vec<_>>(), [item.id]);
        assert!(
            s.items_of_run("run-b", 5, Some(item.id))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.items_of_run("run-a", 5, None).await.unwrap().is_empty());
        // A claimed item is not popped again.
        assert!(
            s.item_pop(q, Some(3), false, now + 10 * LEASE, LEASE)
                .await
                .unwrap()
                .is_none()
        );
        s.item_push(q, "{\"waiting\":1}", None, 2, "alice", now)
            .await
            .unwrap();
        assert_eq!(
            s.item_census(q, now).await.unwrap(),
            ItemCensus {
                counts: vec![("PENDING".to_owned(), 1)],
                claimed: vec![(Some(2), Some("run-b".to_owned()), "{}".to_owned())],
            },
            "the waiting item counted, the claimed one listed"
        );
    })
    .await;
}

#[tokio::test]
async fn fail_works_on_leased_and_claimed_items_only() {
    each(|s| async move {
        let q = queue(&*s, "DISABLED").await;
        let waiting = s.item_push(q, "{}", None, 2, "alice", 0).await.unwrap();
        assert!(
            !s.item_fail_if_owned(waiting.id, None, "{}", 1)
                .await
                .unwrap(),
            "a waiting item has no owner"
        );
        let leased = s
            .item_pop(q, Some(1), false, 1, LEASE)
            .await
            .unwrap()
            .unwrap();
        let err = r#"{"message":"bad spec","stage":"agent","filePaths":[]}"#;
        assert!(
            s.item_fail_if_owned(leased.id, Some(leased.lease_seq), err, 2)
                .await
                .unwrap()
        );
        let got = s.item_get(leased.id).await.unwrap().unwrap();
        assert_eq!(got.state, "FAILED");
        assert_eq!(got.error.as_deref(), Some(err));
        assert!(
            s.item_warning_add(got.id, "careful", "build", "[]", 3)
                .await
                .unwrap()
        );
        assert!(
            !s.item_warning_add(999_999, "x", "build", "[]", 3)
                .await
                .unwrap()
        );
        assert_eq!(s.item_warnings(&[got.id]).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn counts_deletes_and_priority_changes() {
    each(|s| async move {
        let q = queue(&*s, "V0").await;
        let a = s.item_push(q, "{}", None, 2, "alice", 0).await.unwrap();
        let b = s.item_push(q, "{}", None, 2, "alice", 1).await.unwrap();
        let leased = s.item_pop(q, None, true, 5, LEASE).await.unwrap().unwrap();
        assert_eq!(leased.id, a.id);
        assert_eq!(
            s.item_counts(q, 10).await.unwrap(),
            [("LEASED".to_owned(), 1), ("PENDING".to_owned(), 1)]
        );
        // after expiry the lease counts as waiting
        assert_eq!(
            s.item_counts(q, 5 + LEASE + 1).await.unwrap(),
            [("PENDING".to_owned(), 2)]
        );
        assert_eq!(
            s.item_census(q, 10).await.unwrap(),
            ItemCensus {
                counts: vec![("LEASED".to_owned(), 1), ("PENDING".to_owned(), 1)],
                claimed: vec![],
            }
        );
        assert!(
            !s.item_delete_if_waiting(a.id, 10).await.unwrap(),
            "a live lease is not deleted"
        );
        assert!(s.item_delete_if_waiting(b.id, 10).await.unwrap());
        assert!(s.item_set_priority(a.id, 0).await.unwrap());
        assert_eq!(s.item_release_expired(5 + LEASE + 1).await.unwrap(), 1);
        assert_eq!(s.items_waiting(q, true, 0, 10).await.unwrap().len(), 1);
        let page = s.items_of_queue(q, 10, None).await.unwrap();
        assert_eq!(page.iter().map(|i| i.id).collect::<Vec<_>>(), [a.id]);
        assert!(s.queue_delete(q).await.unwrap());
        assert!(s.item_get(a.id).await.unwrap().is_none());
    })
    .await;
}

/// Runs of a sweep logging the same artifact at once: every commit gets
/// its own version (on PostgreSQL two read the same next one and one
/// failed).
#[tokio::test]
async fn concurrent_commits_to_a_collection_get_distinct_versions() {
    each(|s| async move {
        let user = s.user_create("alice", None, false, 1).await.unwrap();
        let e = s.entity_by_name(&user.username).await.unwrap().unwrap();
        let (p, _) = s.project_upsert(e.id, "proj", 1).await.unwrap();
        let c = s
            .collection_get_or_create(p.id, "model", "model", 1)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..16 {
            let a = s
                .artifact_create(
                    &NewArtifact {
                        collection_id: c.id,
                        digest: format!("d{i}"),
                        client_id: Some(format!("client-{i}")),
                        sequence_client_id: None,
                        description: None,
                        metadata: "{}".into(),
                        run_name: None,
                        pending_aliases: "[]".into(),
                    },
                    2,
                )
                .await
                .unwrap();
            ids.push(a.id);
        }
        let commits = ids.into_iter().map(|id| {
            let s = s.clone();
            tokio::spawn(async move { s.artifact_commit(id, 3).await })
        });
        let mut versions = Vec::new();
        for c in commits.collect::<Vec<_>>() {
            versions.push(c.await.unwrap().unwrap().version_index.unwrap());
        }
        versions.sort_unstable();
        assert_eq!(versions, (0..16).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test]
async fn sixteen_pollers_drain_ten_thousand_items_exactly_once() {
    each(|s| async move {
        let q = queue(&*s, "V0").await;
        let mut pushed = HashSet::new();
        for i in 0..10_000 {
            pushed.insert(
                s.item_push(q, "{}", None, i % 4, "alice", i)
                    .await
                    .unwrap()
                    .id,
            );
        }
        let mut tasks = Vec::new();
        for agent in 0..16 {
            let s: Arc<dyn Store> = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(item) = s
                    .item_pop(q, Some(agent), true, 1_000_000, LEASE)
                    .await
                    .unwrap()
                {
                    assert!(
                        s.item_ack_if_leased(item.id, Some(item.lease_seq), "r", 1_000_001)
                            .await
                            .unwrap()
                    );
                    got.push(item.id);
                }
                got
            }));
        }
        let mut popped = Vec::new();
        for t in tasks {
            popped.extend(t.await.unwrap());
        }
        let unique: HashSet<i64> = popped.iter().copied().collect();
        assert_eq!(popped.len(), 10_000, "every item popped");
        assert_eq!(unique, pushed, "each exactly once");
    })
    .await;
}

#[tokio::test]
async fn agents_heartbeat_and_stop() {
    each(|s| async move {
        let user = s.user_create("alice", None, false, 1).await.unwrap();
        let e = s.entity_by_name(&user.username).await.unwrap().unwrap();
        let (p, _) = s.project_upsert(e.id, "model-registry", 1).await.unwrap();
        let a = s
            .agent_create(
                e.id,
                p.id,
                "vm-1",
                "vm",
                "[1]",
                "{}",
                Some("liftoff@0.1.0"),
                5,
            )
            .await
            .unwrap();
        assert_eq!((a.status.as_str(), a.heartbeat_at), ("POLLING", 5));
        assert!(s.agent_heartbeat(a.id, Some("RUNNING"), 9).await.unwrap());
        assert!(s.agent_heartbeat(a.id, None, 10).await.unwrap());
        assert!(s.agent_stop_polling(a.id).await.unwrap());
        let got = s.agent_get(a.id).await.unwrap().unwrap();
        assert_eq!(
            (got.status.as_str(), got.heartbeat_at, got.stop_polling),
            ("RUNNING", 10, true)
        );
        assert!(
            s.agent_create(e.id, p.id, "vm-1", "vm", "[1]", "{}", None, 5)
                .await
                .is_err()
        );
        assert_eq!(s.agents_of_entity(e.id).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn runs_upsert_and_stop() {
    each(|s| async move {
        let user = s.user_create("alice", None, false, 1).await.unwrap();
        let e = s.entity_by_name(&user.username).await.unwrap().unwrap();
        let (p, _) = s.project_upsert(e.id, "proj", 1).await.unwrap();
        let f = RunFields {
            config: Some("{\"lr\":{\"value\":0.1}}".into()),
            ..Default::default()
        };
        let (run, inserted) = s
            .run_upsert(p.id, "ab12cd34", &f, "alice", 5)
            .await
            .unwrap();
        assert!(inserted);
        assert_eq!(run.state, "running");
        let f = RunFields {
            state: Some("finished".into()),
            ..Default::default()
        };
        let (run, inserted) = s
            .run_upsert(p.id, "ab12cd34", &f, "alice", 6)
            .await
            .unwrap();
        assert!(!inserted);
        assert_eq!(
            (run.state.as_str(), run.config.as_str(), run.heartbeat_at),
            ("finished", "{\"lr\":{\"value\":0.1}}", 6)
        );
        // a heartbeat revives a crashed run, unless it is only the agent's console
        let crashed = RunFields {
            state: Some("crashed".into()),
            ..Default::default()
        };
        s.run_upsert(p.id, "ab12cd34", &crashed, "alice", 7)
            .await
            .unwrap();
        let agent = LiveUpdate {
            agent_only: true,
            ..Default::default()
        };
        let r = s.run_live(run.id, &agent, 8).await.unwrap();
        assert_eq!((r.state.as_str(), r.heartbeat_at), ("crashed", 8));
        let r = s.run_live(run.id, &LiveUpdate::default(), 9).await.unwrap();
        assert_eq!(r.state, "running");
        let done = LiveUpdate {
            finish: Some(("failed".into(), 3)),
            ..Default::default()
        };
        let r = s.run_live(run.id, &done, 10).await.unwrap();
        assert_eq!((r.state.as_str(), r.exit_code), ("failed", Some(3)));
        assert!(s.run_stop(run.id).await.unwrap());
        assert!(s.run_get(p.id, "ab12cd34").await.unwrap().unwrap().stopped);
        assert_eq!(
            s.runs_by_names(p.id, &["ab12cd34".into(), "zz".into()])
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            s.run_states_by_names(p.id, &["ab12cd34".into(), "zz".into()])
                .await
                .unwrap(),
            [("ab12cd34".to_owned(), "failed".to_owned(), 10)]
        );
    })
    .await;
}

#[tokio::test]
async fn artifacts_commit_versions_and_move_aliases() {
    each(|s| async move {
        let user = s.user_create("alice", None, false, 1).await.unwrap();
        let e = s.entity_by_name(&user.username).await.unwrap().unwrap();
        let (p, _) = s.project_upsert(e.id, "proj", 1).await.unwrap();
        let c = s
            .collection_get_or_create(p.id, "job-x", "job", 1)
            .await
            .unwrap();
        assert_eq!(
            s.collection_get_or_create(p.id, "job-x", "job", 2)
                .await
                .unwrap()
                .id,
            c.id
        );
        let new = |digest: &str, aliases: &str| NewArtifact {
            collection_id: c.id,
            digest: digest.into(),
            client_id: Some(format!("client-{digest}")),
            sequence_client_id: None,
            description: None,
            metadata: "{}".into(),
            run_name: None,
            pending_aliases: aliases.into(),
        };
        let v0 = s
            .artifact_create(&new("d0", "[\"prod\"]"), 3)
            .await
            .unwrap();
        assert_eq!((v0.state.as_str(), v0.version_index), ("PENDING", None));
        s.artifact_file_add(v0.id, "wandb-job.json", "md5a", Some(10))
            .await
            .unwrap();
        s.artifact_file_add(v0.id, "requirements.frozen.txt", "md5b", Some(5))
            .await
            .unwrap();
        let v0 = s.artifact_commit(v0.id, 4).await.unwrap();
        assert_eq!((v0.version_index, v0.size, v0.file_count), (Some(0), 15, 2));
        assert_eq!(
            s.artifact_commit(v0.id, 5).await.unwrap().version_index,
            Some(0),
            "idempotent"
        );
        let v1 = s.artifact_create(&new("d1", "[]"), 6).await.unwrap();
        let v1 = s.artifact_commit(v1.id, 7).await.unwrap();
        assert_eq!(v1.version_index, Some(1));
        assert_eq!(
            s.artifact_by_alias(c.id, "latest")
                .await
                .unwrap()
                .unwrap()
                .id,
            v1.id
        );
        assert_eq!(
            s.artifact_by_alias(c.id, "prod").await.unwrap().unwrap().id,
            v0.id
        );
        assert_eq!(
            s.artifact_by_version(c.id, 0).await.unwrap().unwrap().id,
            v0.id
        );
        assert_eq!(
            s.artifact_committed_by_digest(c.id, "d0")
                .await
                .unwrap()
                .unwrap()
                .id,
            v0.id
        );
        assert_eq!(
            s.artifact_by_client_id("client-d1")
                .await
                .unwrap()
                .unwrap()
                .id,
            v1.id
        );
        let aliases = s.artifact_aliases(&[v0.id, v1.id]).await.unwrap();
        assert_eq!(
            aliases,
            [(v1.id, "latest".to_owned()), (v0.id, "prod".to_owned())]
        );
        assert_eq!(s.artifacts_of_collection(c.id).await.unwrap().len(), 2);
        assert_eq!(s.collections_of_type(p.id, "job").await.unwrap().len(), 1);
        let (run, _) = s
            .run_upsert(p.id, "r1", &RunFields::default(), "alice", 8)
            .await
            .unwrap();
        s.artifact_use(run.id, v1.id, Some("job")).await.unwrap();
        s.artifact_use(run.id, v1.id, Some("job")).await.unwrap();
        let used = s.runs_using_artifacts(&[v1.id]).await.unwrap();
        assert_eq!(used.len(), 1);
        assert_eq!(used[0].1.name, "r1");
    })
    .await;
}

#[tokio::test]
async fn projects_collections_and_a_runs_artifacts_are_listed() {
    each(|s| async move {
        let user = s.user_create("alice", None, false, 1).await.unwrap();
        let e = s.entity_by_name(&user.username).await.unwrap().unwrap();
        let (p1, _) = s.project_upsert(e.id, "first", 1).await.unwrap();
        let (p2, _) = s.project_upsert(e.id, "second", 2).await.unwrap();
        let names = |ps: Vec<liftoff_server::store::Project>| {
            ps.into_iter().map(|p| p.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(s.projects_of_entity(e.id, 10, None).await.unwrap()),
            ["second", "first"]
        );
        assert_eq!(
            names(s.projects_of_entity(e.id, 1, None).await.unwrap()),
            ["second"]
        );
        assert_eq!(
            names(s.projects_of_entity(e.id, 10, Some(p2.id)).await.unwrap()),
            ["first"]
        );
        let job = s
            .collection_get_or_create(p1.id, "job-x", "job", 3)
            .await
            .unwrap();
        let data = s
            .collection_get_or_create(p1.id, "data", "dataset", 4)
            .await
            .unwrap();
        s.collection_get_or_create(p2.id, "other", "dataset", 5)
            .await
            .unwrap();
        let listed: Vec<_> = s
            .collections_of_project(p1.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.type_name))
            .collect();
        assert_eq!(
            listed,
            [
                ("job-x".to_owned(), "job".to_owned()),
                ("data".to_owned(), "dataset".to_owned())
            ]
        );
        let new = |collection_id: i64, digest: &str, run: Option<&str>| NewArtifact {
            collection_id,
            digest: digest.into(),
            client_id: None,
            sequence_client_id: None,
            description: None,
            metadata: "{}".into(),
            run_name: run.map(str::to_owned),
            pending_aliases: "[]".into(),
        };
        let logged = s
            .artifact_create(&new(data.id, "d0", Some("r1")), 6)
            .await
            .unwrap();
        let logged = s.artifact_commit(logged.id, 7).await.unwrap();
        // still pending, another run's, and a version no run created
        s.artifact_create(&new(data.id, "d1", Some("r1")), 8)
            .await
            .unwrap();
        let theirs = s
            .artifact_create(&new(data.id, "d2", Some("r2")), 9)
            .await
            .unwrap();
        s.artifact_commit(theirs.id, 10).await.unwrap();
        let job_v0 = s
            .artifact_create(&new(job.id, "j0", None), 11)
            .await
            .unwrap();
        let job_v0 = s.artifact_commit(job_v0.id, 12).await.unwrap();
        let ids = |list: Vec<liftoff_server::store::Artifact>| {
            list.into_iter().map(|a| a.id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(s.artifacts_logged_by_run(p1.id, "r1").await.unwrap()),
            [logged.id]
        );
        assert!(
            s.artifacts_logged_by_run(p2.id, "r1")
                .await
                .unwrap()
                .is_empty()
        );
        let (run, _) = s
            .run_upsert(p1.id, "r1", &RunFields::default(), "alice", 13)
            .await
            .unwrap();
        assert!(s.artifacts_used_by_run(run.id).await.unwrap().is_empty());
        s.artifact_use(run.id, job_v0.id, None).await.unwrap();
        s.artifact_use(run.id, theirs.id, Some("data"))
            .await
            .unwrap();
        assert_eq!(
            ids(s.artifacts_used_by_run(run.id).await.unwrap()),
            [theirs.id, job_v0.id]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_sees_each_item_once_while_agents_claim_them() {
    each(|s| async move {
        let q = queue(&*s, "DISABLED").await;
        const N: i64 = 150;
        for i in 0..N {
            s.item_push(q, "{}", None, 2, "alice", i).await.unwrap();
        }
        // An agent takes the items one by one (leased, then claimed) while
        // the queue page counts them: every count must add up to N.
        let agent = {
            let s = s.clone();
            tokio::spawn(async move {
                while let Some(item) = s.item_pop(q, None, false, 1_000, LEASE).await.unwrap() {
                    let run = format!("run-{}", item.id);
                    assert!(
                        s.item_ack_if_leased(item.id, Some(item.lease_seq), &run, 1_001)
                            .await
                            .unwrap()
                    );
                }
            })
        };
        let mut censuses = 0;
        loop {
            let done = agent.is_finished();
            let census = s.item_census(q, 1_002).await.unwrap();
            let counted: i64 = census.counts.iter().map(|(_, n)| n).sum();
            assert_eq!(
                counted + census.claimed.len() as i64,
                N,
                "census #{censuses}: {:?} and {} claimed",
                census.counts,
                census.claimed.len()
            );
            censuses += 1;
            if done {
                assert_eq!(census.claimed.len() as i64, N);
                break;
            }
        }
        agent.await.unwrap();
        eprintln!("{censuses} censuses");
    })
    .await;
}
