/* Virtual switch definitions: STORE/switches/NAME.json read, checked and
 * written (jansson), and the built-in "default" NAT switch. */
#include "devices/net/switchdef.h"

#include "hypervisor/store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SWITCHES_DIR   "switches"
#define DEFAULT_SWITCH "default"
#define BRIDGE_PREFIX  "osbr-"
#define PATH_BUF       4096

bool switchdef_name_ok(const char *name)
{
	size_t n = 0;

	if (!name || !name[0] || name[0] == '.' || name[0] == '-')
		return false;
	for (const char *c = name; *c; c++, n++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			  (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
		if (!ok || n >= NET_NAME_MAX - 1)
			return false;
	}
	return true;
}

bool switchdef_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= NET_IFNAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

/* The bridge of an internal or external switch that does not name one:
 * "osbr-NAME" for names of up to 9 bytes, else "osbr-" and 10 hex digits of
 * a hash of the name (15 bytes: never one of the short forms). */
static void default_bridge(const char *name, char out[NET_IFNAME_MAX])
{
	if (strlen(name) <= NET_IFNAME_MAX - 1 - sizeof(BRIDGE_PREFIX)) {
		snprintf(out, NET_IFNAME_MAX, BRIDGE_PREFIX "%s", name);
		return;
	}
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	snprintf(out, NET_IFNAME_MAX, BRIDGE_PREFIX "%010llx",
		 (unsigned long long)(h & 0xffffffffffull));
}

/* The file of switch name's definition; -EINVAL for a name that is not
 * one. */
static int def_path(const char *name, char *buf, size_t size, char *err, size_t errlen)
{
	char sub[NET_NAME_MAX + 32];

	if (!switchdef_name_ok(name)) {
		snprintf(err, errlen, "'%s' is not a valid switch name", name ? name : "");
		return -EINVAL;
	}
	snprintf(sub, sizeof(sub), SWITCHES_DIR "/%s.json", name);
	int r = store_path(buf, size, sub);
	if (r < 0)
		snprintf(err, errlen, "%s", store_path_problem(r));
	return r;
}

static const char *const known_keys[] = {"name",   "type",   "subnet", "restrict",
					 "bridge", "uplink", "notes",  NULL};

/* One string member (NULL if absent); -EINVAL if not a string. */
static int get_string(json_t *root, const char *key, const char **out, const char *path, char *err,
		      size_t errlen)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: \"%s\" must be a string; fix or remove the file", path,
			 key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* The definition in root (from the file at path) into cfg. */
static int from_json(json_t *root, const char *name, const char *path, struct net_switch_cfg *cfg,
		     char *err, size_t errlen)
{
	const char *key, *sname, *type, *subnet, *bridge, *uplink, *notes;
	enum net_switch_kind kind;
	json_t *v;
	int r;

	if (!json_is_object(root)) {
		snprintf(err, errlen,
			 "%s: not a switch definition (a JSON object); fix or remove "
			 "the file",
			 path);
		return -EINVAL;
	}
	json_object_foreach(root, key, v)
	{
		unsigned i = 0;
		while (known_keys[i] && strcmp(known_keys[i], key))
			i++;
		if (!known_keys[i]) {
			snprintf(
			    err, errlen,
			    "%s: unknown key \"%s\" (known: name, type, subnet, restrict, bridge, "
			    "uplink, notes); fix or remove the file",
			    path, key);
			return -EINVAL;
		}
	}
	if ((r = get_string(root, "name", &sname, path, err, errlen)) < 0 ||
	    (r = get_string(root, "type", &type, path, err, errlen)) < 0 ||
	    (r = get_string(root, "subnet", &subnet, path, err, errlen)) < 0 ||
	    (r = get_string(root, "bridge", &bridge, path, err, errlen)) < 0 ||
	    (r = get_string(root, "uplink", &uplink, path, err, errlen)) < 0 ||
	    (r = get_string(root, "notes", &notes, path, err, errlen)) < 0)
		return r;
	if (sname && strcmp(sname, name)) {
		snprintf(err, errlen,
			 "%s: its \"name\" is \"%s\", not \"%s\" as the file's name "
			 "says; fix or remove the file",
			 path, sname, name);
		return -EINVAL;
	}
	if (!type || net_switch_kind_parse(type, &kind) < 0 || kind == NET_SWITCH_NONE ||
	    kind == NET_SWITCH_FD) {
		snprintf(err, errlen,
			 "%s: \"type\" must be nat, private, internal or external; fix "
			 "or remove the file",
			 path);
		return -EINVAL;
	}
	net_switch_cfg_defaults(cfg, kind, name);
	if (subnet &&
	    (kind != NET_SWITCH_NAT || net_subnet_parse(subnet, &cfg->subnet, &cfg->netmask) < 0)) {
		snprintf(err, errlen,
			 "%s: \"subnet\" must be an IPv4 network with its prefix "
			 "length (8-30), e.g. 10.0.2.0/24, and only a NAT switch has one; fix or "
			 "remove the file",
			 path);
		return -EINVAL;
	}
	if ((v = json_object_get(root, "restrict"))) {
		if (!json_is_boolean(v) || (kind != NET_SWITCH_NAT && json_is_true(v))) {
			snprintf(err, errlen,
				 "%s: \"restrict\" must be true or false (and only a NAT "
				 "switch is restricted); fix or remove the file",
				 path);
			return -EINVAL;
		}
		cfg->restricted = json_is_true(v);
	}
	bool bridged = kind == NET_SWITCH_INTERNAL || kind == NET_SWITCH_EXTERNAL;
	if (bridge && (!bridged || !switchdef_ifname_ok(bridge))) {
		snprintf(err, errlen,
			 "%s: \"bridge\" must be an interface name of 1-15 characters, "
			 "and only internal and external switches have one; fix or remove the file",
			 path);
		return -EINVAL;
	}
	if (bridged) {
		if (bridge)
			snprintf(cfg->bridge, sizeof(cfg->bridge), "%s", bridge);
		else
			default_bridge(name, cfg->bridge);
	}
	if ((uplink && (kind != NET_SWITCH_EXTERNAL || !switchdef_ifname_ok(uplink))) ||
	    (kind == NET_SWITCH_EXTERNAL && !uplink)) {
		snprintf(
		    err, errlen,
		    "%s: an external switch needs \"uplink\", the host's network "
		    "adapter (an interface name), and no other has one; fix or remove the file",
		    path);
		return -EINVAL;
	}
	if (uplink)
		snprintf(cfg->uplink, sizeof(cfg->uplink), "%s", uplink);
	return 0;
}

/* The definition in the file at path; -ENOENT (no message) if none. */
static int load_file(const char *name, const char *path, struct net_switch_cfg *cfg, char *err,
		     size_t errlen)
{
	json_error_t jerr;
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;
		if (r != -ENOENT)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen,
			 "%s: damaged switch definition (line %d: %s); fix or remove the "
			 "file",
			 path, jerr.line, jerr.text);
		return -EINVAL;
	}
	int r = from_json(root, name, path, cfg, err, errlen);
	json_decref(root);
	return r;
}

int switchdef_load(const char *name, struct net_switch_cfg *cfg, char *err, size_t errlen)
{
	char path[PATH_BUF];
	int r;

	if (!switchdef_name_ok(name)) {
		snprintf(err, errlen,
			 "'%s' is not a valid switch name (1-63 letters, digits, '.', "
			 "'_' or '-', not starting with '.' or '-')",
			 name ? name : "");
		return -EINVAL;
	}
	if ((r = def_path(name, path, sizeof(path), err, errlen)) < 0)
		return r;
	r = load_file(name, path, cfg, err, errlen);
	if (r != -ENOENT)
		return r;
	if (!strcmp(name, DEFAULT_SWITCH)) {
		net_switch_cfg_defaults(cfg, NET_SWITCH_NAT, DEFAULT_SWITCH);
		return 0;
	}
	snprintf(err, errlen,
		 "no switch called '%s'; create it, e.g. 'osio switch create %s --type "
		 "private' (see 'osio switch list')",
		 name, name);
	return -ENOENT;
}

/* The JSON form of cfg; an existing file's "notes" (which cfg does not
 * hold) are kept when it is replaced. */
static json_t *to_json(const struct net_switch_cfg *cfg, const char *path)
{
	json_t *root = json_object(), *old;
	char subnet[32];

	if (!root)
		return NULL;
	json_object_set_new(root, "name", json_string(cfg->name));
	json_object_set_new(root, "type", json_string(net_switch_kind_name(cfg->kind)));
	if (cfg->kind == NET_SWITCH_NAT) {
		net_subnet_format(cfg->subnet, cfg->netmask, subnet, sizeof(subnet));
		json_object_set_new(root, "subnet", json_string(subnet));
		json_object_set_new(root, "restrict", json_boolean(cfg->restricted));
	}
	if (cfg->kind == NET_SWITCH_INTERNAL || cfg->kind == NET_SWITCH_EXTERNAL)
		json_object_set_new(root, "bridge", json_string(cfg->bridge));
	if (cfg->kind == NET_SWITCH_EXTERNAL)
		json_object_set_new(root, "uplink", json_string(cfg->uplink));
	if ((old = json_load_file(path, 0, NULL))) {
		json_t *notes = json_object_get(old, "notes");
		if (json_is_string(notes))
			json_object_set(root, "notes", notes);
		json_decref(old);
	}
	return root;
}

/* Checks what a definition must hold before it is written. */
static int check_cfg(const struct net_switch_cfg *cfg, struct net_switch_cfg *out, char *err,
		     size_t errlen)
{
	if (!switchdef_name_ok(cfg->name)) {
		snprintf(err, errlen,
			 "'%s' is not a valid switch name (1-63 letters, digits, '.', "
			 "'_' or '-', not starting with '.' or '-')",
			 cfg->name);
		return -EINVAL;
	}
	if (cfg->kind != NET_SWITCH_NAT && cfg->kind != NET_SWITCH_PRIVATE &&
	    cfg->kind != NET_SWITCH_INTERNAL && cfg->kind != NET_SWITCH_EXTERNAL) {
		snprintf(err, errlen,
			 "switch '%s': a stored switch is nat, private, internal or "
			 "external, not %s",
			 cfg->name, net_switch_kind_name(cfg->kind));
		return -EINVAL;
	}
	*out = *cfg;
	bool bridged = cfg->kind == NET_SWITCH_INTERNAL || cfg->kind == NET_SWITCH_EXTERNAL;
	if (bridged && !cfg->bridge[0])
		default_bridge(cfg->name, out->bridge);
	if (bridged && !switchdef_ifname_ok(out->bridge)) {
		snprintf(
		    err, errlen,
		    "switch '%s': bridge '%.*s' is not an interface name (" SWITCHDEF_IFNAME_RULE
		    ")",
		    cfg->name, NET_IFNAME_MAX, cfg->bridge);
		return -EINVAL;
	}
	if (cfg->kind == NET_SWITCH_EXTERNAL && !switchdef_ifname_ok(cfg->uplink)) {
		snprintf(err, errlen,
			 "switch '%s': an external switch needs an uplink, the host's "
			 "network adapter it shares (--uplink eth0)",
			 cfg->name);
		return -EINVAL;
	}
	return 0;
}

/* Writes root (NULL: out of memory) as the definition of name at path,
 * atomically, with a line end after it. */
static int write_def(json_t *root, const char *name, const char *path, bool replace, char *err,
		     size_t errlen)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (!text) {
		snprintf(err, errlen, "switch '%s': out of memory", name);
		return -ENOMEM;
	}
	size_t len = strlen(text);
	char *doc = realloc(text, len + 2);
	if (!doc) {
		free(text);
		snprintf(err, errlen, "switch '%s': out of memory", name);
		return -ENOMEM;
	}
	doc[len] = '\n';
	doc[len + 1] = '\0';
	int r = store_write_atomic(path, doc, len + 1, 0600, replace, err, errlen);
	free(doc);
	return r;
}

int switchdef_save(const struct net_switch_cfg *cfg, bool replace, char *err, size_t errlen)
{
	struct net_switch_cfg def;
	char dir[PATH_BUF], path[PATH_BUF];
	int r;

	if ((r = check_cfg(cfg, &def, err, errlen)) < 0)
		return r;
	if ((r = store_create_dir(SWITCHES_DIR, dir, sizeof(dir), err, errlen)) < 0 ||
	    (r = def_path(def.name, path, sizeof(path), err, errlen)) < 0)
		return r;
	json_t *root = to_json(&def, path);
	r = write_def(root, def.name, path, replace, err, errlen);
	json_decref(root);
	if (r == -EEXIST)
		snprintf(err, errlen,
			 "a switch called '%s' exists already (see 'osio switch show "
			 "%s'; 'osio switch delete %s' removes it)",
			 def.name, def.name, def.name);
	return r;
}

int switchdef_delete(const char *name, char *err, size_t errlen)
{
	char path[PATH_BUF];
	int r;

	if ((r = def_path(name, path, sizeof(path), err, errlen)) < 0)
		return r;
	r = store_remove(path, err, errlen);
	if (r == -ENOENT && !strcmp(name, DEFAULT_SWITCH)) {
		snprintf(err, errlen,
			 "the switch 'default' is built in (NAT, 10.0.2.0/24) and cannot "
			 "be deleted");
		return -EPERM;
	}
	if (r == -ENOENT)
		snprintf(err, errlen, "no switch called '%s' (see 'osio switch list')", name);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the definitions in STORE/switches, sorted, without
 * "default"; *out NULL and 0 when the folder does not exist. */
static int list_names(char ***out, size_t *count, char *err, size_t errlen)
{
	char dir[PATH_BUF];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int r;

	*out = NULL;
	*count = 0;
	if ((r = store_path(dir, sizeof(dir), SWITCHES_DIR)) < 0) {
		snprintf(err, errlen, "%s", store_path_problem(r));
		return r;
	}
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return r;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		char *name = strndup(e->d_name, len - 5);
		if (!name)
			goto nomem;
		if (!switchdef_name_ok(name) || !strcmp(name, DEFAULT_SWITCH)) {
			free(name);
			continue;
		}
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));
			if (!grown) {
				free(name);
				goto nomem;
			}
			names = grown;
		}
		names[n++] = name;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return 0;

nomem:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int switchdef_foreach(int (*fn)(const struct net_switch_cfg *cfg, void *ctx), void *ctx, char *err,
		      size_t errlen)
{
	struct net_switch_cfg cfg;
	char **names;
	size_t n;
	int first_err = 0, r;

	if ((r = list_names(&names, &n, err, errlen)) < 0)
		return r;
	/* A damaged definition is reported (the first one, in err) after the
	 * others have been seen. */
	for (size_t i = 0; i <= n; i++) {
		const char *name = i == 0 ? DEFAULT_SWITCH : names[i - 1];
		char one[PATH_BUF + 512];
		r = switchdef_load(name, &cfg, one, sizeof(one));
		if (r < 0) {
			if (!first_err) {
				first_err = r;
				snprintf(err, errlen, "%s", one);
			}
			continue;
		}
		if ((r = fn(&cfg, ctx)) != 0) {
			first_err = r;
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return first_err;
}

bool switchdef_notes(const char *name, char *buf, size_t size)
{
	char path[PATH_BUF], ignored[256];
	struct stat st;

	buf[0] = '\0';
	if (def_path(name, path, sizeof(path), ignored, sizeof(ignored)) < 0 || stat(path, &st) < 0)
		return false;
	json_t *root = json_load_file(path, 0, NULL);
	json_t *notes = json_object_get(root, "notes");
	if (json_is_string(notes))
		snprintf(buf, size, "%s", json_string_value(notes));
	json_decref(root);
	return true;
}

int switchdef_set_notes(const char *name, const char *notes, char *err, size_t errlen)
{
	char path[PATH_BUF];
	json_error_t jerr;
	int r;

	if ((r = def_path(name, path, sizeof(path), err, errlen)) < 0)
		return r;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s: %s", path, jerr.text);
		return -EIO;
	}
	if (!notes[0]) {
		json_object_del(root, "notes");
	} else if (json_object_set_new(root, "notes", json_string(notes)) < 0) {
		/* json_string() refuses what is not UTF-8. */
		json_decref(root);
		snprintf(err, errlen, "switch '%s': the notes must be UTF-8 text", name);
		return -EINVAL;
	}
	r = write_def(root, name, path, true, err, errlen);
	json_decref(root);
	return r;
}

void switchdef_one_line(char *text)
{
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

void switchdef_network(const struct net_switch_cfg *cfg, const char *bridge_word, const char *none,
		       char *buf, size_t size)
{
	char subnet[32];

	switch (cfg->kind) {
	case NET_SWITCH_NAT:
		net_subnet_format(cfg->subnet, cfg->netmask, subnet, sizeof(subnet));
		snprintf(buf, size, "%s%s", subnet, cfg->restricted ? " (host only)" : "");
		break;
	case NET_SWITCH_INTERNAL:
		snprintf(buf, size, "%s%s", bridge_word, cfg->bridge);
		break;
	case NET_SWITCH_EXTERNAL:
		snprintf(buf, size, "%s%s + %s", bridge_word, cfg->bridge, cfg->uplink);
		break;
	default:
		snprintf(buf, size, "%s", none);
		break;
	}
}
