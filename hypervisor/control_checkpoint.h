/* The control command checkpoint-create: a checkpoint of the running VM, made by its worker
 * (osio checkpoint NAME create on a running or paused VM asks for it). */
#ifndef OSIO_CONTROL_CHECKPOINT_H
#define OSIO_CONTROL_CHECKPOINT_H

struct control;
struct worker;

/* Registers "checkpoint-create" on ctl, for the VM w runs. Before control_run.
 *
 * Arguments: {"id": ID, "state": PATH, "disks": [{"file": PATH, "new": PATH, "format":
 * "vhdx"|"qcow2"}, ...]}: with the vCPUs stopped and the devices paused, the VM's saved state
 * is written to state (which must not exist), then every disk whose image is file (the same
 * file: device and inode) goes on in a new differencing image at new (block_snapshot; format
 * absent: the image's own when VHDX or qcow2, else qcow2); then the VM runs on (or stays paused
 * if it was). All paths absolute. On any failure nothing is left: the disks already switched
 * are switched back (block_unsnapshot), the state file is removed, and the reply is an error
 * naming what failed ("invalid-argument" for a bad request, a disk no device uses; "failed"
 * for the files; "unavailable" when the VM is not running). The reply: {"id": ID, "state":
 * PATH, "disks": [{"file": PATH, "new": PATH}, ...]}. The caller records the checkpoint (the
 * VM's vmconfig and checkpoints.json: hypervisor/checkpoint.h). */
void control_checkpoint_register(struct control *ctl, struct worker *w);

#endif
