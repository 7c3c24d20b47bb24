//! User management over real HTTP: createUser, updateUser, deleteUser, changePassword,
//! getUser/getUsers with real roles, and our API key methods (createApiKey, getApiKeys,
//! deleteApiKey) — golden paths and errors, in XML (XSD-validated) and JSON. Each test works
//! on its own accounts, so they can share one server.

mod common;

use common::api::*;
use mediastreamer::synth::Format;
use serde_json::Value;
use std::sync::OnceLock;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start_server(1, |music| {
            put(
                music,
                "A/One/01.mp3",
                Format::Mp3,
                song("One", "A", "One", "A", 1),
            )
        })
    })
}

fn call_both(method: &str, query: &str) -> Value {
    server().call_both(method, query)
}

fn ok(r: Value) -> Value {
    assert_eq!(r["status"], "ok", "{r}");
    r
}

/// A GET whose effect must happen once (the XML+JSON pair of `call_both` would apply it
/// twice): JSON only.
fn call_once(method: &str, query: &str) -> Value {
    server()
        .get(&format!("/rest/{method}?{query}&f=json"))
        .json()
}

fn get_user(caller: &str, name: &str) -> Value {
    ok(call_both("getUser", &format!("{caller}&username={name}")))["user"].clone()
}

fn can_sign_in(name: &str, password: &str) -> bool {
    call_once("ping", &format!("u={name}&p={password}"))["status"] == "ok"
}

fn music_folder_id() -> i64 {
    ok(call_both("getMusicFolders", ADMIN))["musicFolders"]["musicFolder"][0]["id"]
        .as_i64()
        .unwrap()
}

#[test]
fn create_user_with_roles_folders_and_an_encoded_password() {
    let folder = music_folder_id();
    // "s3cret!" as enc:HEX.
    ok(call_once(
        "createUser",
        &format!(
            "{ADMIN}&username=carla&password=enc:73336372657421&email=carla@example.org\
             &downloadRole=true&shareRole=true&jukeboxRole=true&musicFolderId={folder}"
        ),
    ));
    assert!(can_sign_in("carla", "s3cret!"));
    let user = get_user(ADMIN, "carla");
    assert_eq!(user["email"], "carla@example.org");
    assert_eq!(user["adminRole"], false);
    // Spec defaults: settings and stream on, the rest off unless named.
    for (role, on) in [
        ("settingsRole", true),
        ("streamRole", true),
        ("downloadRole", true),
        ("shareRole", true),
        ("playlistRole", false),
        ("commentRole", false),
        ("coverArtRole", false),
        ("podcastRole", false),
        // Features this server does not have stay false even when asked for.
        ("jukeboxRole", false),
        ("uploadRole", false),
        ("videoConversionRole", false),
    ] {
        assert_eq!(user[role], on, "{role}");
    }
    assert_eq!(user["maxBitRate"], 0);
    assert_eq!(user["folder"], serde_json::json!([folder]));
    // The user can read their own account.
    assert_eq!(get_user("u=carla&p=s3cret!", "carla")["username"], "carla");

    // Errors: not an admin (50), missing username/password (10), duplicate (0), unknown
    // folder (70), junk folder id (0).
    assert_error(
        &call_both("createUser", &format!("{BOB}&username=x1&password=p")),
        50,
    );
    assert_error(&call_both("createUser", &format!("{ADMIN}&password=p")), 10);
    assert_error(
        &call_both("createUser", &format!("{ADMIN}&username=x2")),
        10,
    );
    let r = call_both("createUser", &format!("{ADMIN}&username=carla&password=p"));
    assert_error(&r, 0);
    assert!(r["error"]["message"].as_str().unwrap().contains("exists"));
    assert_error(
        &call_both(
            "createUser",
            &format!("{ADMIN}&username=x3&password=p&musicFolderId=999"),
        ),
        70,
    );
    assert_error(
        &call_both(
            "createUser",
            &format!("{ADMIN}&username=x4&password=p&musicFolderId=abc"),
        ),
        0,
    );
    assert_error(
        &call_both("createUser", &format!("{ADMIN}&username=x5&password=")),
        0,
    );
    // Nothing was half-created by the failures.
    let names: Vec<String> = ok(call_both("getUsers", ADMIN))["users"]["user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"carla".to_string()));
    assert!(!names.iter().any(|n| n.starts_with('x')), "{names:?}");
}

#[test]
fn update_user_changes_only_what_it_names() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=dora&password=dorapw&email=d@x.org&playlistRole=true"),
    ));
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=dora&maxBitRate=128&downloadRole=true&streamRole=false"),
    ));
    let user = get_user(ADMIN, "dora");
    assert_eq!(user["maxBitRate"], 128);
    assert_eq!(user["downloadRole"], true);
    assert_eq!(user["streamRole"], false);
    // Untouched: e-mail, playlist role, password.
    assert_eq!(user["email"], "d@x.org");
    assert_eq!(user["playlistRole"], true);
    assert!(can_sign_in("dora", "dorapw"));
    // Password and admin flag.
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=dora&password=newdora&adminRole=true"),
    ));
    assert!(can_sign_in("dora", "newdora"));
    let user = get_user(ADMIN, "dora");
    assert_eq!(user["adminRole"], true);
    // An admin holds every role we offer.
    assert_eq!(user["streamRole"], true);
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=dora&adminRole=false"),
    ));
    assert_eq!(get_user(ADMIN, "dora")["adminRole"], false);

    // Errors: not an admin (50), missing username (10), unknown user (70), a bit rate
    // clients cannot offer (0), junk boolean (0).
    assert_error(
        &call_both("updateUser", &format!("{BOB}&username=bob&adminRole=true")),
        50,
    );
    assert_error(
        &call_both("updateUser", &format!("{ADMIN}&maxBitRate=128")),
        10,
    );
    assert_error(
        &call_both(
            "updateUser",
            &format!("{ADMIN}&username=nobody&maxBitRate=128"),
        ),
        70,
    );
    let r = call_both(
        "updateUser",
        &format!("{ADMIN}&username=dora&maxBitRate=100"),
    );
    assert_error(&r, 0);
    assert!(r["error"]["message"].as_str().unwrap().contains("bit rate"));
    assert_error(
        &call_both(
            "updateUser",
            &format!("{ADMIN}&username=dora&streamRole=maybe"),
        ),
        0,
    );
    assert_eq!(get_user(ADMIN, "dora")["maxBitRate"], 128);
}

#[test]
fn the_last_administrator_can_be_neither_demoted_nor_deleted() {
    let r = call_both(
        "updateUser",
        &format!("{ADMIN}&username=admin&adminRole=false"),
    );
    assert_error(&r, 0);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last administrator"),
        "{r}"
    );
    assert_eq!(get_user(ADMIN, "admin")["adminRole"], true);
    // Deleting oneself is refused too (the only way an admin could reach the last admin).
    assert_error(
        &call_both("deleteUser", &format!("{ADMIN}&username=admin")),
        0,
    );
    assert!(can_sign_in("admin", "adminpw"));
}

#[test]
fn delete_user_removes_the_account() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=eve&password=evepw"),
    ));
    assert!(can_sign_in("eve", "evepw"));
    // Errors first: not an admin (50), missing username (10).
    assert_error(&call_both("deleteUser", &format!("{BOB}&username=eve")), 50);
    assert_error(&call_both("deleteUser", ADMIN), 10);
    ok(call_once("deleteUser", &format!("{ADMIN}&username=eve")));
    assert!(!can_sign_in("eve", "evepw"));
    assert_error(&call_both("getUser", &format!("{ADMIN}&username=eve")), 70);
    // Gone: deleting again is "not found".
    assert_error(
        &call_both("deleteUser", &format!("{ADMIN}&username=eve")),
        70,
    );
}

#[test]
fn change_password_for_oneself_or_as_an_admin() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=finn&password=finnpw"),
    ));
    ok(call_once(
        "changePassword",
        "u=finn&p=finnpw&username=finn&password=enc:66696e6e32",
    ));
    assert!(can_sign_in("finn", "finn2"));
    assert!(!can_sign_in("finn", "finnpw"));
    // Someone else's password: only an admin.
    assert_error(
        &call_both(
            "changePassword",
            "u=finn&p=finn2&username=bob&password=hacked",
        ),
        50,
    );
    assert!(can_sign_in("bob", "bobpw"));
    ok(call_once(
        "changePassword",
        &format!("{ADMIN}&username=finn&password=finn3"),
    ));
    assert!(can_sign_in("finn", "finn3"));
    // Without the settings role a user cannot change even their own password.
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=finn&settingsRole=false"),
    ));
    assert_error(
        &call_both(
            "changePassword",
            "u=finn&p=finn3&username=finn&password=finn4",
        ),
        50,
    );
    assert!(can_sign_in("finn", "finn3"));
    // Missing parameters (10), bad enc: (0), unknown user (70).
    assert_error(
        &call_both("changePassword", &format!("{ADMIN}&username=finn")),
        10,
    );
    assert_error(
        &call_both("changePassword", &format!("{ADMIN}&password=x")),
        10,
    );
    assert_error(
        &call_both(
            "changePassword",
            &format!("{ADMIN}&username=finn&password=enc:zz"),
        ),
        0,
    );
    assert_error(
        &call_both(
            "changePassword",
            &format!("{ADMIN}&username=nobody&password=x"),
        ),
        70,
    );
}

#[test]
fn get_user_and_get_users_show_real_roles() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=gus&password=guspw&commentRole=true"),
    ));
    let gus = get_user("u=gus&p=guspw", "gus");
    assert_eq!(gus["commentRole"], true);
    assert_eq!(gus["downloadRole"], false);
    assert_eq!(gus["scrobblingEnabled"], true);
    let users = ok(call_both("getUsers", ADMIN));
    let list = users["users"]["user"].as_array().unwrap();
    let admin = list.iter().find(|u| u["username"] == "admin").unwrap();
    assert_eq!(admin["adminRole"], true);
    assert_eq!(admin["downloadRole"], true);
    let listed = list.iter().find(|u| u["username"] == "gus").unwrap();
    assert_eq!(listed["commentRole"], true);
    // Others' accounts: admins only.
    assert_error(&call_both("getUser", "u=gus&p=guspw&username=admin"), 50);
    assert_error(&call_both("getUsers", "u=gus&p=guspw"), 50);
}

#[test]
fn api_keys_are_created_listed_and_revoked_over_the_api() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=hana&password=hanapw"),
    ));
    let created = ok(call_once("createApiKey", "u=hana&p=hanapw&name=phone"));
    let key = created["apiKey"]["key"].as_str().unwrap().to_string();
    let id = created["apiKey"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["apiKey"]["name"], "phone");
    let who = ok(call_both("tokenInfo", &format!("apiKey={key}")));
    assert_eq!(who["tokenInfo"]["username"], "hana");
    // Listed without the key itself; lastUsed once used.
    let list = ok(call_both("getApiKeys", "u=hana&p=hanapw"));
    let keys = list["apiKeys"]["apiKey"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], id.as_str());
    assert!(keys[0].get("key").is_none());
    assert!(keys[0]["lastUsed"].is_string());
    // An admin sees and may revoke anyone's keys; a user only their own.
    let by_admin = ok(call_both("getApiKeys", &format!("{ADMIN}&username=hana")));
    assert_eq!(by_admin["apiKeys"]["apiKey"].as_array().unwrap().len(), 1);
    assert_error(
        &call_both("getApiKeys", "u=hana&p=hanapw&username=admin"),
        50,
    );
    assert_error(
        &call_both("createApiKey", "u=hana&p=hanapw&username=bob"),
        50,
    );
    assert_error(
        &call_both("deleteApiKey", &format!("u=bob&p=bobpw&id={id}")),
        70,
    );
    assert_error(&call_both("deleteApiKey", "u=hana&p=hanapw"), 10);
    assert_error(&call_both("deleteApiKey", "u=hana&p=hanapw&id=999999"), 70);
    // Revoked keys stop working at once.
    ok(call_once(
        "deleteApiKey",
        &format!("u=hana&p=hanapw&id={id}"),
    ));
    assert_error(&call_both("tokenInfo", &format!("apiKey={key}")), 44);
    let list = ok(call_both("getApiKeys", "u=hana&p=hanapw"));
    assert_eq!(list["apiKeys"]["apiKey"], serde_json::json!([]));
}

fn new_key(query: &str) -> String {
    ok(call_once("createApiKey", query))["apiKey"]["key"]
        .as_str()
        .unwrap()
        .to_string()
}

fn key_works(key: &str) -> bool {
    call_once("ping", &format!("apiKey={key}"))["status"] == "ok"
}

#[test]
fn a_password_change_revokes_the_api_keys_but_the_one_that_made_it() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=ivan&password=ivanpw"),
    ));
    let phone = new_key("u=ivan&p=ivanpw&name=phone");
    let browser = new_key("u=ivan&p=ivanpw&name=browser");
    let bobs = new_key(&format!("{BOB}&name=bobs"));
    // Changed from the browser (with its key): the phone's key goes, the browser stays in.
    ok(call_once(
        "changePassword",
        &format!("apiKey={browser}&username=ivan&password=ivan2"),
    ));
    assert!(!key_works(&phone));
    assert!(key_works(&browser));
    assert!(key_works(&bobs), "other users' keys are untouched");
    assert_error(&call_both("ping", &format!("apiKey={phone}")), 44);
    // Changed with the password (no key), or by an administrator: every key goes.
    let tablet = new_key("u=ivan&p=ivan2&name=tablet");
    ok(call_once(
        "changePassword",
        "u=ivan&p=ivan2&username=ivan&password=ivan3",
    ));
    assert!(!key_works(&browser) && !key_works(&tablet));
    let laptop = new_key("u=ivan&p=ivan3&name=laptop");
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=ivan&password=ivan4"),
    ));
    assert!(!key_works(&laptop));
    // updateUser without a password keeps the keys.
    let desk = new_key("u=ivan&p=ivan4&name=desk");
    ok(call_once(
        "updateUser",
        &format!("{ADMIN}&username=ivan&email=i@example.org"),
    ));
    assert!(key_works(&desk));
    // The command line's `user passwd` too.
    let out = server().cli(&["user", "passwd", "ivan", "--password", "ivan5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!key_works(&desk));
    assert!(can_sign_in("ivan", "ivan5"));
    assert!(key_works(&bobs));
}

#[test]
fn users_without_the_settings_role_list_and_revoke_their_own_keys() {
    ok(call_once(
        "createUser",
        &format!("{ADMIN}&username=jo&password=jopw&settingsRole=false"),
    ));
    let made = ok(call_once(
        "createApiKey",
        &format!("{ADMIN}&username=jo&name=kiosk"),
    ));
    let key = made["apiKey"]["key"].as_str().unwrap().to_string();
    let id = made["apiKey"]["id"].as_str().unwrap().to_string();
    let list = ok(call_both("getApiKeys", "u=jo&p=jopw"));
    assert_eq!(list["apiKeys"]["apiKey"][0]["name"], "kiosk");
    let list = ok(call_both("getApiKeys", &format!("apiKey={key}")));
    assert_eq!(list["apiKeys"]["apiKey"].as_array().unwrap().len(), 1);
    // Making a key is like changing one's password: the settings role.
    assert_error(&call_both("createApiKey", "u=jo&p=jopw&name=mine"), 50);
    // Not someone else's keys.
    assert_error(&call_both("getApiKeys", "u=jo&p=jopw&username=bob"), 50);
    ok(call_once("deleteApiKey", &format!("u=jo&p=jopw&id={id}")));
    assert!(!key_works(&key));
    let list = ok(call_both("getApiKeys", "u=jo&p=jopw"));
    assert_eq!(list["apiKeys"]["apiKey"], serde_json::json!([]));
}
