/* `osio checkpoint NAME create [LABEL] | list [--json] | apply ID|LABEL | delete ID|LABEL`:
 * Hyper-V-like checkpoints of a VM in the store (hypervisor/checkpoint.h); a running VM's
 * checkpoint is made by its worker (control command checkpoint-create). */
#include "cli/commands.h"
#include "cli/ctlclient.h"
#include "cli/store_common.h"

#include "hypervisor/checkpoint.h"
#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A running VM's checkpoint writes its RAM: allow for a large, slow one. */
#define CREATE_WAIT_MS (10 * 60 * 1000)
#define END_WAIT_MS    30000

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: osio checkpoint NAME COMMAND [ARGS...]\n"
	    "\n"
	    "Checkpoints keep a VM's disks and settings (and, when it runs, its whole state) as\n"
	    "they are now, to go back to later, as Hyper-V's checkpoints do.\n"
	    "\n"
	    "commands:\n"
	    "  create [LABEL]     a new checkpoint (label: \"NAME - DATE TIME\" if not given); of\n"
	    "                     a running or saved VM it keeps its state too\n"
	    "  list [--json]      the checkpoints as a tree, with Now (the VM's current state)\n"
	    "  apply ID|LABEL     back to a checkpoint, its disks and settings (the VM keeps its\n"
	    "                     name): the current state is discarded; a running VM is turned\n"
	    "                     off first; a checkpoint with a state makes the VM Saved, so\n"
	    "                     that osio start resumes it there\n"
	    "  delete ID|LABEL    removes a checkpoint, merging its disk images (a merge into the\n"
	    "                     disks a running VM uses needs the VM off)\n");
}

static void say(void *opaque, const char *line)
{
	printf("%s\n", line);
}

struct vm {
	struct ckpt_vm ck;
	char name[72];
	char dir[PATH_MAX], vmconfig[PATH_MAX];
};

static int vm_open(const char *name, struct vm *vm)
{
	char err[256];

	if (vmstore_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -EINVAL;
	}
	if (!vmstore_exists(name)) {
		log_error("no VM '%s' in the store (osio list shows them)", name);
		return -ENOENT;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	if (vmstore_path(name, NULL, vm->dir, sizeof(vm->dir)) < 0 ||
	    vmstore_vmconfig(name, vm->vmconfig, sizeof(vm->vmconfig)) < 0) {
		log_error("VM '%s': its folder's path is too long", name);
		return -ENAMETOOLONG;
	}
	vm->ck = (struct ckpt_vm){
	    .name = vm->name, .dir = vm->dir, .vmconfig = vm->vmconfig, .say = say};
	return 0;
}

/* --- list ------------------------------------------------------------------------- */

static void when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static const char *shown_parent_id(const struct ckpt_tree *t, const char *id)
{
	const struct ckpt *p = ckpt_tree_shown_parent(t, id);
	return p ? p->id : "";
}

#define DIFF_MAX   32 /* differences looked at */
#define DIFF_SHOWN 4  /* differences a list line names */

/* Under a checkpoint: what its settings have that the VM's do not now. */
static void print_diff(const struct vm *vm, const struct ckpt *c, unsigned depth)
{
	char list[DIFF_MAX][CKPT_DIFF_LEN], err[512];
	unsigned n = 0;

	if (ckpt_config_diff(&vm->ck, c, list, DIFF_MAX, &n, err, sizeof(err)) < 0 || n == 0)
		return;
	printf("%-8s  %-19s  %*s  settings: ", "", "", (int)depth * 2, "");
	for (unsigned i = 0; i < n && i < DIFF_SHOWN; i++)
		printf("%s%s", i ? "; " : "", list[i]);
	if (n > DIFF_SHOWN)
		printf("; %s%u more", n == DIFF_MAX ? "at least " : "", n - DIFF_SHOWN);
	printf("\n");
}

static void print_level(const struct vm *vm, const struct ckpt_tree *t, const char *parent,
			unsigned depth)
{
	char created[32];

	for (unsigned i = 0; i < t->n; i++) {
		const struct ckpt *c = &t->c[i];
		if (c->deleted || strcmp(shown_parent_id(t, c->parent), parent) != 0)
			continue;
		when(c->created, created, sizeof(created));
		printf("%-8s  %s  %*s%s%s\n", c->id, created, (int)depth * 2, "", c->label,
		       c->has_state ? "  [with saved state]" : "");
		print_diff(vm, c, depth);
		print_level(vm, t, c->id, depth + 1);
	}
	if (strcmp(shown_parent_id(t, t->now), parent) == 0)
		printf("%-8s  %-19s  %*s> Now\n", "", "", (int)depth * 2, "");
}

static unsigned depth_of(const struct ckpt_tree *t, const char *id)
{
	unsigned d = 0;
	for (const struct ckpt *c = ckpt_tree_shown_parent(t, id); c && d <= t->n;
	     c = ckpt_tree_shown_parent(t, c->parent))
		d++;
	return d;
}

static int list_json(const struct vm *vm, const struct ckpt_tree *t)
{
	json_t *arr = json_array();
	char created[32];

	for (unsigned i = 0; i < t->n; i++) {
		const struct ckpt *c = &t->c[i];
		if (c->deleted)
			continue;
		json_t *disks = json_array();
		for (unsigned j = 0; j < c->nimages; j++)
			json_array_append_new(disks,
					      json_pack("{s:s, s:s}", "disk", c->images[j].disk,
							"file", c->images[j].file));
		const char *p = shown_parent_id(t, c->parent);
		char diff[DIFF_MAX][CKPT_DIFF_LEN], err[512];
		unsigned nd = 0;
		json_t *settings = json_null();
		if (ckpt_config_diff(&vm->ck, c, diff, DIFF_MAX, &nd, err, sizeof(err)) == 0) {
			settings = json_array();
			for (unsigned j = 0; j < nd; j++)
				json_array_append_new(settings, json_string(diff[j]));
		}
		when(c->created, created, sizeof(created));
		json_array_append_new(
		    arr, json_pack("{s:s, s:s, s:o, s:I, s:s, s:b, s:i, s:o, s:o}", "id", c->id,
				   "label", c->label, "parent", p[0] ? json_string(p) : json_null(),
				   "created", (json_int_t)c->created, "created_local", created,
				   "state", c->has_state, "depth", (int)depth_of(t, c->id), "disks",
				   disks, "settings_differ", settings));
	}
	const char *now = shown_parent_id(t, t->now);
	json_t *root = json_pack("{s:s, s:o, s:o}", "vm", vm->name, "now",
				 now[0] ? json_string(now) : json_null(), "checkpoints", arr);
	int status = store_print_json(root);
	json_decref(root);
	return status;
}

static int do_list(struct vm *vm, int argc, char **argv)
{
	bool json = false;
	struct ckpt_tree t;
	char err[1024];
	unsigned shown = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			log_error("unexpected '%s' (usage: osio checkpoint NAME list [--json])",
				  argv[i]);
			return 2;
		}
	}
	if (ckpt_load_tree(&vm->ck, &t, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	int rc = 0;
	for (unsigned i = 0; i < t.n; i++)
		shown += !t.c[i].deleted;
	if (json)
		rc = list_json(vm, &t);
	else if (!shown)
		printf("VM '%s' has no checkpoints (osio checkpoint %s create makes one)\n",
		       vm->name, vm->name);
	else {
		printf("%-8s  %-19s  %s\n", "ID", "CREATED", "CHECKPOINT");
		print_level(vm, &t, "", 0);
	}
	ckpt_tree_free(&t);
	return rc;
}

/* --- create, apply, delete ----------------------------------------------------- */

/* Whether the VM has a worker now (asked without claiming it: a claim would
 * clear a Crashed VM's record). */
static bool running(const char *name)
{
	int pid;
	return vmstore_worker_alive(name, &pid);
}

/* The worker snapshots every disk and writes the state; then the checkpoint is recorded. */
static int create_running(struct vm *vm, const char *label)
{
	struct ckpt_plan plan;
	struct vmctl v;
	char err[1024];
	int r;

	if (ckpt_plan_create(&vm->ck, label, &plan, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	/* What the worker runs with (osio start wrote it) is what the state fits. */
	if (ckpt_running_path(&vm->ck, plan.running, sizeof(plan.running)) < 0 ||
	    access(plan.running, F_OK) < 0)
		plan.running[0] = '\0';
	if (vmctl_open(vm->name, &v) < 0) {
		ckpt_plan_free(&plan);
		return 1;
	}
	json_t *disks = json_array();
	for (unsigned i = 0; i < plan.n; i++)
		json_array_append_new(disks,
				      json_pack("{s:s, s:s, s:s}", "file", plan.d[i].cur, "new",
						plan.d[i].next, "format", plan.d[i].format));
	json_t *args =
	    json_pack("{s:s, s:s, s:o}", "id", plan.id, "state", plan.state, "disks", disks);
	r = vmctl_call(&v, "checkpoint-create", args, NULL, CREATE_WAIT_MS);
	vmctl_close(&v);
	if (r == -ETIMEDOUT) {
		log_error("VM '%s' did not finish the checkpoint within %d s; see its worker.log",
			  vm->name, CREATE_WAIT_MS / 1000);
		ckpt_plan_free(&plan);
		return 1;
	}
	if (r < 0) {
		/* The worker undid what it did (vmctl_call said why). */
		ckpt_plan_undo(&plan);
		ckpt_plan_free(&plan);
		return 1;
	}
	plan.with_state = true;
	if (ckpt_plan_record(&vm->ck, &plan, err, sizeof(err)) < 0) {
		log_error("%s; VM '%s' runs on its new disk images (named in worker.log), but the "
			  "checkpoint could not be recorded",
			  err, vm->name);
		ckpt_plan_free(&plan);
		return 1;
	}
	printf("Created checkpoint '%s' (%s) of running VM '%s' with its state\n", plan.label,
	       plan.id, vm->name);
	ckpt_plan_free(&plan);
	return 0;
}

static int turn_off(struct vm *vm)
{
	struct vmctl v;

	if (vmctl_open(vm->name, &v) < 0)
		return -1;
	int pid = v.pid;
	if (vmctl_call(&v, "stop", NULL, NULL, CTL_TIMEOUT_MS) < 0 && !v.closed) {
		vmctl_close(&v);
		return -1;
	}
	int r = vmctl_wait_state(&v, "off", false, END_WAIT_MS);
	vmctl_close(&v);
	if (r < 0 && r != -ECONNRESET) {
		log_error("VM '%s' did not turn off within %d s", vm->name, END_WAIT_MS / 1000);
		return -1;
	}
	if (vmctl_wait_gone(pid, END_WAIT_MS) < 0 || running(vm->name)) {
		log_error("VM '%s': its worker (pid %d) did not end within %d s", vm->name, pid,
			  END_WAIT_MS / 1000);
		return -1;
	}
	printf("VM '%s' turned off to apply the checkpoint\n", vm->name);
	return 0;
}

static int change(struct vm *vm, const char *cmd, int argc, char **argv)
{
	bool create = strcmp(cmd, "create") == 0;
	char err[1024], id[CKPT_ID_LEN + 1];
	int lock, r, rc = 1;

	if (argc > 1 || (!create && argc < 1)) {
		log_error("usage: osio checkpoint NAME %s %s", cmd,
			  create ? "[LABEL]" : "ID|LABEL");
		return 2;
	}
	if (create && argc == 1 && ckpt_check_label(argv[0], err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (vmstore_lock(vm->name, &lock, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	bool on = running(vm->name);
	if (create) {
		if (on) {
			rc = create_running(vm, argc ? argv[0] : NULL);
			goto out;
		}
		r = ckpt_create(&vm->ck, argc ? argv[0] : NULL, id, err, sizeof(err));
	} else if (strcmp(cmd, "apply") == 0) {
		if (on) {
			/* Know the checkpoint before turning the VM off for it. */
			struct ckpt_tree t;
			struct ckpt *c;
			r = ckpt_load_tree(&vm->ck, &t, err, sizeof(err));
			if (r == 0)
				r = ckpt_tree_find(&t, argv[0], &c, err, sizeof(err));
			ckpt_tree_free(&t);
			if (r < 0)
				goto fail;
			if (turn_off(vm) < 0)
				goto out;
		}
		r = ckpt_apply(&vm->ck, argv[0], err, sizeof(err));
	} else {
		r = ckpt_delete(&vm->ck, argv[0], on, err, sizeof(err));
	}
fail:
	if (r < 0)
		log_error("%s", err);
	else
		rc = 0;
out:
	vmstore_unlock(lock);
	return rc;
}

int cmd_checkpoint(int argc, char **argv)
{
	struct vm vm;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[2];
	if (strcmp(cmd, "list") != 0 && strcmp(cmd, "create") != 0 && strcmp(cmd, "apply") != 0 &&
	    strcmp(cmd, "delete") != 0) {
		log_error(
		    "unknown checkpoint command '%s' (create, list, apply or delete; see osio "
		    "checkpoint --help)",
		    cmd);
		return 2;
	}
	if (vm_open(argv[1], &vm) < 0)
		return 1;
	if (strcmp(cmd, "list") == 0)
		return do_list(&vm, argc - 3, argv + 3);
	return change(&vm, cmd, argc - 3, argv + 3);
}
