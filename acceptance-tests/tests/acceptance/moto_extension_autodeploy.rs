//! The moto extension's auto-deployment of service-managed StackSets, against a live moto
//! started through the launcher: accounts created in, moved into, moved out of and removed
//! from the target OUs, with a DIFFERENCE exclusion, retention on removal, and a StackSet
//! without auto-deployment left alone. moto on its own does none of this.

use crate::common::moto_alone::{organizations_call, start, xml_values};

use acceptance_tests::{Moto, skip_unless_acc};
use serde_json::{Value, json};

const ROLE: &str = "AutoDeployedRole";
const REGION: &str = "us-east-1";

/// Organizations through its JSON protocol; panics unless moto answers 200.
fn organizations(moto: &Moto, action: &str, body: Value) -> Value {
    let (status, answer) = organizations_call(moto, action, body);
    assert_eq!(status, 200, "organizations {action}: {answer}");
    answer
}

struct Org<'a> {
    moto: &'a Moto,
    root: String,
}

impl Org<'_> {
    fn ou(&self, parent: &str, name: &str) -> String {
        let out = organizations(
            self.moto,
            "CreateOrganizationalUnit",
            json!({"ParentId": parent, "Name": name}),
        );
        out["OrganizationalUnit"]["Id"]
            .as_str()
            .expect("OU id")
            .to_owned()
    }

    /// CreateAccount (AWS puts the account at the root), then MoveAccount to `parent`.
    fn account(&self, name: &str, parent: &str) -> String {
        let out = organizations(
            self.moto,
            "CreateAccount",
            json!({"AccountName": name, "Email": format!("{name}@example.test")}),
        );
        let id = out["CreateAccountStatus"]["AccountId"]
            .as_str()
            .expect("account id")
            .to_owned();
        if parent != self.root {
            self.mv(&id, &self.root, parent);
        }
        id
    }

    fn mv(&self, account: &str, from: &str, to: &str) {
        organizations(
            self.moto,
            "MoveAccount",
            json!({"AccountId": account, "SourceParentId": from, "DestinationParentId": to}),
        );
    }

    fn remove(&self, account: &str) {
        organizations(
            self.moto,
            "RemoveAccountFromOrganization",
            json!({"AccountId": account}),
        );
    }

    fn instances(&self, stack_set: &str) -> Vec<String> {
        let xml = self.moto.query(
            "cloudformation",
            "ListStackInstances",
            &[("StackSetName", stack_set)],
        );
        let mut accounts = xml_values(&xml, "Account");
        accounts.sort();
        accounts
    }

    fn has_role(&self, account: &str) -> bool {
        self.moto
            .iam_role_names_in(account)
            .iter()
            .any(|r| r == ROLE)
    }
}

fn template() -> String {
    json!({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": ROLE,
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}}})
    .to_string()
}

fn stack_set(moto: &Moto, name: &str, auto: bool, ou: &str, excluded: &str) {
    let auto = if auto { "true" } else { "false" };
    let body = template();
    moto.query(
        "cloudformation",
        "CreateStackSet",
        &[
            ("StackSetName", name),
            ("TemplateBody", &body),
            ("PermissionModel", "SERVICE_MANAGED"),
            ("AutoDeployment.Enabled", auto),
            ("AutoDeployment.RetainStacksOnAccountRemoval", "false"),
        ],
    );
    moto.query(
        "cloudformation",
        "CreateStackInstances",
        &[
            ("StackSetName", name),
            ("Regions.member.1", REGION),
            ("DeploymentTargets.OrganizationalUnitIds.member.1", ou),
            ("DeploymentTargets.Accounts.member.1", excluded),
            ("DeploymentTargets.AccountFilterType", "DIFFERENCE"),
        ],
    );
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn acc_moto_ext_stack_set_auto_deployment() {
    skip_unless_acc!();
    let (moto, _dir) = start();
    organizations(&moto, "CreateOrganization", json!({"FeatureSet": "ALL"}));
    let roots = organizations(&moto, "ListRoots", json!({}));
    let root = roots["Roots"][0]["Id"].as_str().expect("root").to_owned();
    let org = Org { moto: &moto, root };
    let workloads = org.ou(&org.root, "workloads");
    let team = org.ou(&workloads, "team");
    let sandbox = org.ou(&org.root, "sandbox");
    moto.query("cloudformation", "ActivateOrganizationsAccess", &[]);
    let a = org.account("a", &workloads);
    let b = org.account("b", &team);
    let excluded = org.account("excluded", &workloads);
    stack_set(&moto, "auto", true, &workloads, &excluded);
    stack_set(&moto, "manual", false, &workloads, &excluded);
    let base = sorted(vec![a.clone(), b.clone()]);
    assert_eq!(org.instances("auto"), base);
    // DescribeStackSet names the target OUs, as AWS does.
    let described = moto.query(
        "cloudformation",
        "DescribeStackSet",
        &[("StackSetName", "auto")],
    );
    assert!(described.contains(&workloads), "{described}");

    // Created outside the targets: nothing; moved into a nested OU: instance and role.
    let joiner = org.account("joiner", &sandbox);
    assert_eq!(org.instances("auto"), base);
    assert!(!org.has_role(&joiner));
    org.mv(&joiner, &sandbox, &team);
    let with_joiner = sorted(vec![a.clone(), b.clone(), joiner.clone()]);
    assert_eq!(org.instances("auto"), with_joiner);
    assert!(org.has_role(&joiner), "the stack ran in the new member");
    assert_eq!(
        org.instances("manual"),
        base,
        "no auto-deployment, no instance"
    );

    // Created straight into a target (the extension's bulk seeding counts as creation).
    let seeded = moto.seed_accounts(1, &[team.as_str()]).ids();
    assert!(org.instances("auto").contains(&seeded[0]));
    assert!(org.has_role(&seeded[0]));

    // The DIFFERENCE exclusion holds for a move between target OUs.
    org.mv(&excluded, &workloads, &team);
    assert!(!org.instances("auto").contains(&excluded));
    assert!(!org.has_role(&excluded));

    // Moved out of the targets, removed from the organization: instance and stack deleted.
    org.mv(&joiner, &team, &sandbox);
    assert!(!org.instances("auto").contains(&joiner));
    assert!(!org.has_role(&joiner), "its stack went with the instance");
    org.remove(&a);
    assert!(!org.instances("auto").contains(&a));
    assert!(!org.has_role(&a));
    assert_eq!(
        org.instances("manual"),
        base,
        "no auto-deployment, nothing removed"
    );

    // RetainStacksOnAccountRemoval (turned on by UpdateStackSet): the instance goes, the stack's
    // resources stay.
    let body = template();
    moto.query(
        "cloudformation",
        "UpdateStackSet",
        &[
            ("StackSetName", "auto"),
            ("TemplateBody", &body),
            ("AutoDeployment.Enabled", "true"),
            ("AutoDeployment.RetainStacksOnAccountRemoval", "true"),
        ],
    );
    org.mv(&b, &team, &sandbox);
    assert!(!org.instances("auto").contains(&b));
    assert!(org.has_role(&b), "retained");

    // Every automatic deployment is an operation of the StackSet.
    let ops = moto.query(
        "cloudformation",
        "ListStackSetOperations",
        &[("StackSetName", "auto")],
    );
    let actions = xml_values(&ops, "Action");
    assert_eq!(
        actions.iter().filter(|a| *a == "CREATE").count(),
        3,
        "{ops}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "DELETE").count(),
        3,
        "{ops}"
    );
}
