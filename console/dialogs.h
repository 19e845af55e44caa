/* The console's wizards and managers, each a modal dialog (widgets.h)
 * started from an action. Each reports failures in a message box and
 * returns normally: the console never exits on an error. */
#ifndef OSIO_CONSOLE_DIALOGS_H
#define OSIO_CONSOLE_DIALOGS_H

#include <stdbool.h>

struct console;

/* New Virtual Machine wizard (wiz_vm.c): name and location, generation,
 * memory, processors, network adapter and switch, hard disk (new VHDX,
 * existing, none), installation media (ISO with a file browser, network
 * boot, none), summary, finish (and start now). The new VM is selected. */
void wizard_new_vm(struct console *con);
/* New Virtual Hard Disk wizard (wiz_disk.c): format, type (fixed, dynamic,
 * differencing with a parent), location, size; progress while a fixed disk
 * is written. out (may be NULL) gets the new disk's path. true when made. */
bool wizard_new_disk(struct console *con, const char *start_dir, char *out, unsigned outlen);
/* Edit Disk (wiz_disk.c): pick a disk, then inspect, expand, convert or
 * compact it (osio disk info/resize/convert/compact). */
void wizard_edit_disk(struct console *con);

/* Settings of the VM name (settings.c): the hardware tree and an editor
 * per item; saved through the vmconfig writer with the user's comments
 * kept; on a running VM, what needs it off says so, and DVD media and an
 * adapter's switch change live. */
void settings_open(struct console *con, const char *name);
/* Just the DVD media of a VM (running or not): insert, change, eject. */
void settings_dvd(struct console *con, const char *name);

/* Virtual Switch Manager (switchmgr.c): the store's switches, create, edit
 * and delete NAT, private, internal and external switches. create_now:
 * open at "New virtual switch" (the New > Virtual Switch action). */
void switch_manager(struct console *con, bool create_now);

#endif
