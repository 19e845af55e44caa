/* acpi-pm: the ACPI PM1a event and control registers and the PM timer (ACPI
 * 6.x, 4.8 fixed hardware) behind the FADT, and the SCI they drive. */
#include "devices/acpi_pm.h"

#include "devices/device.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NSEC	 1000000000ull
#define TMR_MASK ((1ull << ACPI_PM_TMR_BITS) - 1)
/* TMR_STS is set each time the timer's top bit toggles: every 2^23 ticks. */
#define TOGGLE_SHIFT (ACPI_PM_TMR_BITS - 1)
#define NOT_ARMED    UINT64_MAX
/* A saved timer count beyond this (40 years) is a damaged file; it keeps
 * the nanosecond arithmetic below far from overflowing. */
#define TICKS_SAVED_MAX (1ull << 52)

/* Bits that exist; the others are reserved and read 0. */
#define STS_BITS                                                                                   \
	(ACPI_PM1_TMR | ACPI_PM1_BM_STS | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN |       \
	 ACPI_PM1_RTC | ACPI_PM1_WAK)
#define EN_BITS	    (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define CNT_RW_BITS (ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_SLP_TYP)

struct acpi_pm {
	struct machine *m;
	uint16_t base;
	bool decoding; /* registered at base */
	unsigned irq;
	struct irq_line sci_line;
	pthread_mutex_t lock;
	struct evtimer *timer; /* armed for the next toggle while TMR_EN is set */
	uint64_t origin_ns;    /* the timer counts from here */
	uint64_t epoch;	       /* ticks >> TOGGLE_SHIFT when TMR_STS was last updated */
	uint64_t armed_epoch;  /* the epoch whose end the timer waits for */
	uint16_t sts, en, cnt; /* cnt: the read/write bits only */
	bool sci;
	bool warned_sleep;
	/* Paused: the timer stands at frozen_ticks, the SCI line and the
	 * toggle timer wait for the resume. */
	bool paused;
	uint64_t frozen_ticks;
};

/* PM timer ticks in `ns` nanoseconds, without overflow. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return ns / NSEC * ACPI_PM_TMR_FREQ + ns % NSEC * ACPI_PM_TMR_FREQ / NSEC;
}

/* The first nanosecond at which `ticks` ticks have passed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	uint64_t rem = ticks % ACPI_PM_TMR_FREQ * NSEC;
	return ticks / ACPI_PM_TMR_FREQ * NSEC + (rem + ACPI_PM_TMR_FREQ - 1) / ACPI_PM_TMR_FREQ;
}

static uint64_t now_ticks(const struct acpi_pm *pm)
{
	if (pm->paused)
		return pm->frozen_ticks;
	return ns_to_ticks(clock_ns() - pm->origin_ns);
}

/* Makes the timer read `ticks` now (origin_ns may wrap: the difference
 * taken in now_ticks is modular). */
static void set_ticks(struct acpi_pm *pm, uint64_t ticks)
{
	pm->origin_ns = clock_ns() - ticks_to_ns(ticks);
}

/* Brings TMR_STS, the SCI line and the toggle timer up to date with the
 * clock and the registers. Caller holds the lock. */
static void refresh(struct acpi_pm *pm, uint64_t ticks)
{
	uint64_t epoch = ticks >> TOGGLE_SHIFT;
	if (epoch != pm->epoch) {
		pm->sts |= ACPI_PM1_TMR;
		pm->epoch = epoch;
	}
	if (pm->paused)
		return; /* the line and the timer follow on resume */

	/* SCI_EN is always set, so the SCI follows the enabled events. */
	bool level = (pm->sts & pm->en & EN_BITS) != 0;
	if (level != pm->sci) {
		pm->sci = level;
		irq_line_set(&pm->sci_line, level);
	}

	if (!(pm->en & ACPI_PM1_TMR)) {
		if (pm->armed_epoch != NOT_ARMED) {
			evtimer_cancel(pm->timer);
			pm->armed_epoch = NOT_ARMED;
		}
	} else if (pm->armed_epoch != epoch) {
		uint64_t due = ticks_to_ns((epoch + 1) << TOGGLE_SHIFT);
		uint64_t now = ticks_to_ns(ticks);
		evtimer_arm(pm->timer, due > now ? due - now : 1, 0);
		pm->armed_epoch = epoch;
	}
}

static void toggle_due(void *opaque)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	pm->armed_epoch = NOT_ARMED; /* it fired: arm again if still wanted */
	refresh(pm, now_ticks(pm));
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t img[ACPI_PM_LEN];

	pthread_mutex_lock(&pm->lock);
	uint64_t ticks = now_ticks(pm);
	refresh(pm, ticks);
	uint16_t cnt = pm->cnt | ACPI_PM1_CNT_SCI_EN;
	uint32_t tmr = (uint32_t)(ticks & TMR_MASK);
	img[0] = (uint8_t)pm->sts;
	img[1] = (uint8_t)(pm->sts >> 8);
	img[2] = (uint8_t)pm->en;
	img[3] = (uint8_t)(pm->en >> 8);
	img[4] = (uint8_t)cnt;
	img[5] = (uint8_t)(cnt >> 8);
	img[6] = img[7] = 0xff; /* nothing between PM1_CNT and PM_TMR */
	for (int i = 0; i < 4; i++)
		img[ACPI_PM_TMR_OFF + i] = (uint8_t)(tmr >> (8 * i));
	pthread_mutex_unlock(&pm->lock);

	uint64_t v = 0;
	for (unsigned i = 0; i < size && offset + i < ACPI_PM_LEN; i++)
		v |= (uint64_t)img[offset + i] << (8 * i);
	return v;
}

/* The bytes of a write that fall on the 16-bit register at `reg`. */
static uint16_t part(const uint8_t *bytes, unsigned reg)
{
	return (uint16_t)(bytes[reg] | bytes[reg + 1] << 8);
}

static void sleep_request(struct acpi_pm *pm, unsigned typ)
{
	if (typ == ACPI_SLP_TYP_S5) {
		if (tracing(TRACE_DEV))
			log_trace("acpi-pm: S5 (soft off) requested");
		machine_request(pm->m, MACHINE_POWEROFF, 0);
		return;
	}
	/* No S1-S4 yet: behave as if the machine woke up at once, so an OS
	 * waiting for WAK_STS goes on. */
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_WAK;
	bool warn = !pm->warned_sleep;
	pm->warned_sleep = true;
	pthread_mutex_unlock(&pm->lock);
	if (warn)
		log_warn("acpi-pm: the guest asked for sleep type %u; only S5 (soft off, type %u) "
			 "is supported, so it keeps running",
			 typ, ACPI_SLP_TYP_S5);
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint8_t val[ACPI_PM_LEN] = {0}, mask[ACPI_PM_LEN] = {0};
	for (unsigned i = 0; i < size && offset + i < ACPI_PM_LEN; i++) {
		val[offset + i] = (uint8_t)(value >> (8 * i));
		mask[offset + i] = 0xff;
	}
	uint16_t v, m;
	bool sleep = false;
	unsigned typ = 0;

	pthread_mutex_lock(&pm->lock);
	/* Catch up first, so that clearing TMR_STS clears a toggle that is
	 * already due instead of seeing it set again right after. */
	uint64_t ticks = now_ticks(pm);
	refresh(pm, ticks);

	v = part(val, ACPI_PM1_STS_OFF);
	m = part(mask, ACPI_PM1_STS_OFF);
	pm->sts &= (uint16_t) ~(v & m & STS_BITS);

	v = part(val, ACPI_PM1_EN_OFF);
	m = part(mask, ACPI_PM1_EN_OFF);
	pm->en = (uint16_t)((pm->en & ~m) | (v & m & EN_BITS));

	v = part(val, ACPI_PM1_CNT_OFF);
	m = part(mask, ACPI_PM1_CNT_OFF);
	pm->cnt = (uint16_t)((pm->cnt & ~(m & CNT_RW_BITS)) | (v & m & CNT_RW_BITS));
	if (v & m & ACPI_PM1_CNT_SLP_EN) {
		sleep = true;
		typ = (pm->cnt & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
	}
	/* GBL_RLS would signal the firmware's SMI handler; there is none.
	 * PM_TMR is read-only. */
	refresh(pm, ticks);
	pthread_mutex_unlock(&pm->lock);

	if (sleep)
		sleep_request(pm, typ);
}

static const struct bus_ops pm_ops = {.read = pm_read, .write = pm_write};

void acpi_pm_power_button(void *opaque)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN;
	refresh(pm, now_ticks(pm));
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_reset(void *state)
{
	struct acpi_pm *pm = state;
	pthread_mutex_lock(&pm->lock);
	pm->sts = pm->en = pm->cnt = 0;
	/* The timer keeps counting; toggles before the reset are forgotten. */
	uint64_t ticks = now_ticks(pm);
	pm->epoch = ticks >> TOGGLE_SHIFT;
	refresh(pm, ticks);
	pthread_mutex_unlock(&pm->lock);
}

int acpi_pm_set_base(void *state, uint16_t base, bool enabled)
{
	struct acpi_pm *pm = state;
	if (pm->decoding && (!enabled || base != pm->base)) {
		bus_unregister(pm->m->pio, pm->base, pm);
		pm->decoding = false;
	}
	pm->base = base;
	if (!enabled || pm->decoding)
		return 0;
	if (base > 0x10000 - ACPI_PM_LEN)
		return -EINVAL;
	int r = bus_register(pm->m->pio, base, ACPI_PM_LEN, &pm_ops, pm, "acpi-pm");
	pm->decoding = r == 0;
	return r;
}

static int acpi_pm_create(struct machine *m, const char *id, const struct devargs *args,
			  void **state)
{
	static const char *const known[] = {"base", "irq", NULL};
	const uint64_t max_base = 0x10000 - ACPI_PM_LEN;
	int r = devargs_check_keys(args, "acpi-pm", known);
	if (r < 0)
		return r;
	uint64_t base, irq;
	if (devargs_u64(args, "base", PORT_ACPI_PM, max_base, &base) < 0) {
		log_error("acpi-pm: base=%s: expected an I/O port number from 0 to 0x%llx",
			  devargs_get(args, "base"), (unsigned long long)max_base);
		return -EINVAL;
	}
	if (devargs_u64(args, "irq", IRQ_SCI, IOAPIC_PINS - 1, &irq) < 0) {
		log_error("acpi-pm: irq=%s: expected an interrupt line from 0 to %d",
			  devargs_get(args, "irq"), IOAPIC_PINS - 1);
		return -EINVAL;
	}

	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	pm->m = m;
	pm->base = (uint16_t)base;
	pm->irq = (unsigned)irq;
	if ((r = machine_irq_line(m, pm->irq, &pm->sci_line)) < 0) {
		log_error("acpi-pm: cannot connect to IRQ %u", pm->irq);
		free(pm);
		return r;
	}
	pm->armed_epoch = NOT_ARMED;
	pm->origin_ns = clock_ns();
	pthread_mutex_init(&pm->lock, NULL);
	pm->timer = evtimer_new(m->loop, toggle_due, pm);
	if (!pm->timer) {
		log_error("acpi-pm: cannot create its timer");
		r = -ENOMEM;
		goto fail;
	}
	r = bus_register(m->pio, base, ACPI_PM_LEN, &pm_ops, pm, "acpi-pm");
	pm->decoding = r == 0;
	if (r < 0)
		goto fail_timer;
	*state = pm;
	return 0;

fail_timer:
	evtimer_free(pm->timer);
fail:
	pthread_mutex_destroy(&pm->lock);
	irq_line_release(&pm->sci_line);
	free(pm);
	return r;
}

/* Saved state: the registers and where the timer stands; the block's base
 * is the PIIX4 PM function's (or the settings'). */
static void acpi_pm_save(void *state, struct vmstate_out *out)
{
	struct acpi_pm *pm = state;
	pthread_mutex_lock(&pm->lock);
	uint64_t ticks = now_ticks(pm);
	refresh(pm, ticks);
	vmstate_put_u64(out, "ticks", ticks);
	vmstate_put_u64(out, "epoch", pm->epoch);
	vmstate_put_u64(out, "sts", pm->sts);
	vmstate_put_u64(out, "en", pm->en);
	vmstate_put_u64(out, "cnt", pm->cnt);
	pthread_mutex_unlock(&pm->lock);
}

static int acpi_pm_load(void *state, struct vmstate_section *in)
{
	struct acpi_pm *pm = state;
	uint64_t ticks, epoch;
	uint16_t sts, en, cnt;
	int r;
	if ((r = vmstate_get_u64(in, "ticks", TICKS_SAVED_MAX, &ticks)) < 0 ||
	    (r = vmstate_get_u64(in, "epoch", ticks >> TOGGLE_SHIFT, &epoch)) < 0 ||
	    (r = vmstate_get_u16(in, "sts", UINT16_MAX, &sts)) < 0 ||
	    (r = vmstate_get_u16(in, "en", UINT16_MAX, &en)) < 0 ||
	    (r = vmstate_get_u16(in, "cnt", UINT16_MAX, &cnt)) < 0)
		return r;
	if (sts & ~STS_BITS)
		return vmstate_fail(in, "sts: 0x%04x has reserved bits set", sts);
	if (en & ~EN_BITS)
		return vmstate_fail(in, "en: 0x%04x has reserved bits set", en);
	if (cnt & ~CNT_RW_BITS)
		return vmstate_fail(in, "cnt: 0x%04x has bits other than BM_RLD and SLP_TYP", cnt);
	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = cnt;
	pm->epoch = epoch;
	if (pm->paused)
		pm->frozen_ticks = ticks;
	else
		set_ticks(pm, ticks);
	/* The SCI as the registers say, the toggle timer for this epoch. */
	evtimer_cancel(pm->timer);
	pm->armed_epoch = NOT_ARMED;
	refresh(pm, ticks);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

/* The timer stops while the VM is paused (it counts the guest's time, as
 * QEMU's virtual clock does), and so do the toggle timer and the SCI. */
static void acpi_pm_pause(void *state, bool paused)
{
	struct acpi_pm *pm = state;
	pthread_mutex_lock(&pm->lock);
	if (paused && !pm->paused) {
		pm->frozen_ticks = now_ticks(pm);
		pm->paused = true;
		evtimer_cancel(pm->timer);
		pm->armed_epoch = NOT_ARMED;
	} else if (!paused && pm->paused) {
		pm->paused = false;
		set_ticks(pm, pm->frozen_ticks);
		refresh(pm, pm->frozen_ticks);
	}
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_destroy(void *state)
{
	struct acpi_pm *pm = state;
	if (pm->decoding)
		bus_unregister(pm->m->pio, pm->base, pm);
	evtimer_free(pm->timer);
	irq_line_release(&pm->sci_line);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static const struct device_model acpi_pm_model = {
    .name = "acpi-pm",
    .description = "ACPI PM1a event/control registers and PM timer (SCI, S5 power-off)",
    .create = acpi_pm_create,
    .reset = acpi_pm_reset,
    .destroy = acpi_pm_destroy,
    .state_version = 1,
    .save = acpi_pm_save,
    .load = acpi_pm_load,
    .pause = acpi_pm_pause,
};
DEVICE_MODEL(acpi_pm_model);
