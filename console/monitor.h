/* Live data for the console's VM list, without polling when nothing runs:
 * inotify on the store's vms folder (VMs created, deleted, renamed, their
 * vmconfigs changed) and on the runtime directory (control sockets coming
 * and going), an event connection to each running worker (state changes
 * and guest shutdowns arrive at once; a dropped connection is a worker
 * that ended or died), and while any worker runs, a refresh of the running
 * VMs' figures (CPU %, memory, uptime) every MONITOR_PERIOD_MS.
 *
 * The work that can block (vmstore_info talks to workers, which may hang)
 * runs on a thread of the monitor's own; the console's thread only takes
 * the results, so a hung worker never freezes the screen. */
#ifndef OSIO_CONSOLE_MONITOR_H
#define OSIO_CONSOLE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct vm_model;
struct monitor;

#define MONITOR_PERIOD_MS 1000

/* What monitor_take reports (bit mask). */
#define MONITOR_LIST	1 /* rows added, removed, or their figures changed */
#define MONITOR_CONFIG	2 /* a VM's vmconfig or checkpoints changed: reload its details */
#define MONITOR_STATE	4 /* a VM's state changed */

/* Starts the monitor thread and watches the store; the first full listing
 * follows at once. The monitor registers its wake-up descriptor on loop
 * and calls changed(opaque) there (in the console's thread) whenever
 * monitor_take has something. 0, or -errno with one line in err. */
int monitor_start(struct loop *l, void (*changed)(void *opaque), void *opaque,
		  struct monitor **out, char *err, size_t errlen);
/* Stops the thread, closes every connection. NULL is fine. */
void monitor_stop(struct monitor *mon);

/* Brings model up to date with what the thread learnt (rows added,
 * replaced, removed; a VM that crashed gets its status "Crashed: <last log
 * line>"). Returns MONITOR_* bits of what changed; names of VMs whose
 * config changed are remembered until monitor_config_changed asks. */
unsigned monitor_take(struct monitor *mon, struct vm_model *model);
/* Whether the VM's config (or checkpoint tree) changed since the last
 * call for it (clears the flag). */
bool monitor_config_changed(struct monitor *mon, const char *name);

/* Asks for a fresh look at one VM (name) or all (NULL) now, e.g. right
 * after the console acted on it. */
void monitor_refresh(struct monitor *mon, const char *name);

#endif
