/* The VMs in the store (store.h has its root, STORE): one folder per VM,
 * STORE/vms/NAME/, holding
 *   NAME.vmconfig     its settings (disk paths in it relative to the folder)
 *   NAME.vhdx         the disk osio create made (more: NAME-2.vhdx, ...)
 *   saved.vmstate     its saved state (savevm.h): the VM is Saved
 *   worker.log        what its worker logged (osio start)
 *   checkpoints/      checkpoints.json and each checkpoint's saved state
 *   .lock             held (flock) by an osio command changing the VM
 *   .running          held (flock) by the VM's worker for its whole life;
 *                     holds "PID BOOT_ID START_TIME\n"
 * and, in the runtime directory (runtime_dir.h), NAME.sock (the control
 * socket) and NAME.serial (the serial console's socket).
 *
 *   .crashed          a worker died: the VM is Crashed until it is started
 *                     again (holds what .running held and the time)
 *
 * A .running that nobody holds, written during this boot of the host, is a
 * worker that died: vmstore_info renames it .crashed and removes the dead
 * socket. One from an earlier boot is just removed (the host went down: the
 * VM is Off). */
#ifndef OSIO_VMSTORE_H
#define OSIO_VMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A VM name: 1-63 bytes of letters, digits, '-', '_', '.', starting with a
 * letter or a digit (the vmconfig's [vm] name rule, vmconfig_check_name). 0, or -EINVAL with a
 * sentence in err. */
int vmstore_check_name(const char *name, char *err, size_t errlen);

/* STORE/vms/NAME (sub NULL) or STORE/vms/NAME/sub; nothing is created.
 * -EINVAL for a bad name, store_path's errors otherwise. */
int vmstore_path(const char *name, const char *sub, char *buf, size_t size);
/* STORE/vms/NAME/NAME.vmconfig. */
int vmstore_vmconfig(const char *name, char *buf, size_t size);
/* Whether the VM exists (its vmconfig does). */
bool vmstore_exists(const char *name);

/* The VMs' names, sorted; *names is a NULL-terminated array to free with
 * vmstore_free_names. A folder without its vmconfig is skipped. */
int vmstore_list(char ***names, unsigned *n);
void vmstore_free_names(char **names);

/* A new VM (osio create, import) is made in a hidden folder that listing
 * skips, STORE/vms/.NAME.new-XXXXXX (vmstore_new_dir: its path into buf),
 * and put in place whole by vmstore_publish, which renames it to
 * STORE/vms/NAME unless that exists: -EEXIST (a VM of that name) or
 * -ENOTEMPTY (a folder without a vmconfig) with a sentence in err. So two
 * creates of one name never meet, and a failed one leaves nothing behind. */
int vmstore_new_dir(const char *name, char *buf, size_t size, char *err, size_t errlen);
int vmstore_publish(const char *name, const char *tmpdir, char *err, size_t errlen);

/* The command lock: held while an osio command changes the VM (start,
 * delete, checkpoint, ...). Never waits: -EBUSY with "VM 'NAME' is busy:
 * another osio command (pid N) is working on it; try again when it is done"
 * in err. *fd is released with vmstore_unlock. */
int vmstore_lock(const char *name, int *fd, char *err, size_t errlen);
void vmstore_unlock(int fd);

/* The worker's claim (held for its life, released at exit or by the
 * kernel when it dies): -EBUSY with "VM 'NAME' is already running (pid N)"
 * in err. */
int vmstore_worker_claim(const char *name, int *fd, char *err, size_t errlen);
/* A clean end: removes .running and releases it. */
void vmstore_worker_release(const char *name, int fd);
/* Whether a worker holds the VM's claim (its pid into *pid when not NULL),
 * changing nothing: for commands that only need to know. */
bool vmstore_worker_alive(const char *name, int *pid);

enum vm_state {
	VM_OFF,
	VM_STARTING,
	VM_RUNNING,
	VM_PAUSED,
	VM_SAVING,
	VM_SAVED,
	VM_CRASHED,
};
/* "Off", "Starting", ... as osio list shows them. */
const char *vm_state_name(enum vm_state s);

/* For clients of a running worker's control socket (osio list, the console):
 * query-status's "state" as a vm_state (starting, paused, saving; anything
 * else means the worker is up: Running), and stats' vCPU time
 * ("cpu-time-ns", else the sum of each vCPU's "time-ns") and the worker's
 * uptime; false when stats has neither CPU figure. */
struct json_t;
enum vm_state vmstore_worker_state(const char *status_state);
bool vmstore_stats_cpu(struct json_t *stats, uint64_t *cpu_ns, uint64_t *uptime_ns);

struct vm_info {
	char name[65];
	enum vm_state state;
	int pid;	    /* the worker's, 0 if none */
	uint64_t uptime_ns; /* running or paused */
	double cpu_percent; /* of one host CPU, over the last interval (or the run) */
	uint64_t memory;    /* bytes assigned */
	unsigned cpus;
	char vnc[128];	     /* "127.0.0.1:5900", "" if none */
	char log_tail[1024]; /* Crashed: the last lines of worker.log */
};

/* Everything osio list shows for one VM: from the store, and from its
 * worker's control socket when it runs (a short timeout: a hung worker is
 * shown as it last was, never blocks the list). -ENOENT for no such VM. */
int vmstore_info(const char *name, struct vm_info *info);

/* osio rename: gives a VM that is Off, Saved or Crashed another name, under
 * its command lock: its folder (RENAME_NOREPLACE), NAME.vmconfig and its
 * [vm] name (comments kept; a [vm] uuid is written first so the guest keeps
 * its identity), and the disks NAME.vhdx / NAME-N.vhdx in the folder that no
 * other image uses as a parent (their paths in the vmconfig and
 * checkpoints.json follow). A failure midway is undone. 0, or -errno with
 * one sentence in err. */
int vmstore_rename(const char *old, const char *new_name, char *err, size_t errlen);

#endif
