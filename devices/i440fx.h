/* The i440FX host bridge: PCI bus 0 and its configuration ports, and the PAM
 * registers that switch 0xC0000-0xFFFFF between the BIOS ROM and shadow
 * RAM. */
#ifndef OSIO_I440FX_H
#define OSIO_I440FX_H

#include <stddef.h>

/* `hb` is the state of an "i440fx" device. The BIOS image (page-aligned,
 * at least 128 KiB, kept by the caller) whose last 128 KiB appear at
 * 0xE0000-0xFFFFF while those PAM segments are not reading RAM. */
int i440fx_set_bios(void *hb, const void *rom, size_t size);

/* Leaves 0xC0000-0xFFFFF as read-write RAM, through the PAM registers, as
 * a BIOS does before it hands over: for kernels booted without one. */
void i440fx_shadow_ram(void *hb);

#endif
