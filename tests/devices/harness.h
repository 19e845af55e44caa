/* Device test harness: a machine with guest RAM, buses and an event loop but
 * no KVM and no vCPU. The test plays the guest's driver through the same bus
 * functions a vCPU exit uses, and sees interrupt lines and reset/power-off
 * requests through recorders. */
#ifndef OSIO_TEST_HARNESS_H
#define OSIO_TEST_HARNESS_H

#include "devices/device.h"
#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stdint.h>

#define HARNESS_IRQS 24

struct harness {
	struct machine m;
	bool irq_level[HARNESS_IRQS];
	unsigned irq_raised[HARNESS_IRQS]; /* 0->1 transitions seen */
	unsigned requests;		   /* machine_request calls */
	enum machine_request last_request;
	int last_status;
};

/* A machine with `ram` bytes of RAM (at least 1 MiB). Returns 0 or fails
 * the test. */
int harness_init(struct harness *h, uint64_t ram);
void harness_fini(struct harness *h);

/* Creates a device: "uart16550", "com1", "base=0x3f8,irq=4,backend=none". */
void harness_add(struct harness *h, const char *model, const char *id, const char *args);

/* Runs the machine's event loop for about `ms` milliseconds (timers, backend
 * fds, posted calls). */
void harness_run(struct harness *h, unsigned ms);
/* Runs the loop until cond(ctx) is true or ms pass; returns cond's value. */
bool harness_run_until(struct harness *h, unsigned ms, bool (*cond)(void *ctx), void *ctx);

uint8_t hinb(struct harness *h, uint16_t port);
uint16_t hinw(struct harness *h, uint16_t port);
uint32_t hinl(struct harness *h, uint16_t port);
void houtb(struct harness *h, uint16_t port, uint8_t v);
void houtw(struct harness *h, uint16_t port, uint16_t v);
void houtl(struct harness *h, uint16_t port, uint32_t v);
uint64_t hmmio_read(struct harness *h, uint64_t addr, unsigned size);
void hmmio_write(struct harness *h, uint64_t addr, uint64_t v, unsigned size);

/* Host pointer to guest RAM at gpa (asserts it is RAM). */
void *hram(struct harness *h, uint64_t gpa, uint64_t len);

#endif
