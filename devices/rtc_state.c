/* The MC146818A RTC's saved state: the clock as an offset from the host's, the registers and
 * CMOS RAM; and pausing it (timers off, IRQ 8 held). */
#include "devices/rtc_int.h"

#include "hypervisor/evloop.h"

#include <errno.h>
#include <string.h>

/* The clock is saved as its offset from the host's clock, so that a VM
 * restored later reads the time of day it is then (the chip's battery kept
 * it running), and the registers, RAM and flags as they are. The periodic
 * interrupt's phase starts again on load. */
void rtc_save(void *state, struct vmstate_out *out)
{
	struct rtc *r = state;
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	rtc_sync(r, &now);
	vmstate_put_bytes(out, "cmos", r->cmos, sizeof(r->cmos));
	vmstate_put_u64(out, "index", r->index);
	vmstate_put_bool(out, "nmi_masked", r->nmi_masked);
	vmstate_put_bool(out, "stopped", r->stopped);
	vmstate_put_bool(out, "wday_written", r->wday_written);
	vmstate_put_u64(out, "offset_s", (uint64_t)r->offset_s);
	vmstate_put_u64(out, "offset_frac", (uint64_t)r->offset_frac);
	vmstate_put_u64(out, "wday_adjust", (uint64_t)r->wday_adjust);
	vmstate_put_u64(out, "synced_s", (uint64_t)r->synced_s);
	pthread_mutex_unlock(&r->lock);
}

static int get_seconds(struct vmstate_section *in, const char *field, int64_t *out)
{
	uint64_t v;
	int ret = vmstate_get_u64(in, field, UINT64_MAX, &v);
	if (ret < 0)
		return ret;
	int64_t s = (int64_t)v;
	if (s > SAVED_SECONDS_MAX || s < -SAVED_SECONDS_MAX)
		return vmstate_fail(in, "%s: %lld seconds is out of range", field, (long long)s);
	*out = s;
	return 0;
}

int rtc_load(void *state, struct vmstate_section *in)
{
	struct rtc *r = state;
	uint8_t cmos[sizeof(r->cmos)], index, wday_adjust;
	bool nmi_masked, stopped, wday_written;
	int64_t offset_s = 0, synced_s = 0;
	uint64_t offset_frac;
	int ret;
	if ((ret = vmstate_get_bytes(in, "cmos", cmos, sizeof(cmos))) < 0 ||
	    (ret = vmstate_get_u8(in, "index", 0x7f, &index)) < 0 ||
	    (ret = vmstate_get_bool(in, "nmi_masked", &nmi_masked)) < 0 ||
	    (ret = vmstate_get_bool(in, "stopped", &stopped)) < 0 ||
	    (ret = vmstate_get_bool(in, "wday_written", &wday_written)) < 0 ||
	    (ret = get_seconds(in, "offset_s", &offset_s)) < 0 ||
	    (ret = vmstate_get_u64(in, "offset_frac", NSEC - 1, &offset_frac)) < 0 ||
	    (ret = vmstate_get_u8(in, "wday_adjust", 6, &wday_adjust)) < 0 ||
	    (ret = get_seconds(in, "synced_s", &synced_s)) < 0)
		return ret;
	if (cmos[REG_A] & A_UIP)
		return vmstate_fail(in, "cmos: register A has UIP set, which is never stored");
	if (cmos[REG_C] & (uint8_t) ~(C_PF | C_AF | C_UF))
		return vmstate_fail(in, "cmos: register C is 0x%02x; only PF, AF and UF are kept",
				    cmos[REG_C]);
	bool held = (cmos[REG_B] & B_SET) || (cmos[REG_A] & A_DV_RESET) == A_DV_RESET;
	if (stopped != held)
		return vmstate_fail(in, "stopped: the clock is %s while registers A and B say %s",
				    stopped ? "stopped" : "running", held ? "stopped" : "running");
	if (wday_written && !stopped)
		return vmstate_fail(in, "wday_written: set while the clock runs");

	pthread_mutex_lock(&r->lock);
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->index = index;
	r->nmi_masked = nmi_masked;
	r->stopped = stopped;
	r->wday_written = wday_written;
	r->offset_s = offset_s;
	r->offset_frac = (int64_t)offset_frac;
	r->wday_adjust = wday_adjust;
	r->synced_s = synced_s;
	struct now now = rtc_read_clocks(r);
	r->pf_anchor = now.mono;
	r->pf_count = 0;
	evtimer_cancel(r->update_timer);
	evtimer_cancel(r->periodic_timer);
	r->armed_update_s = NOT_ARMED;
	r->armed_pf = 0;
	/* Flags for the seconds that passed since the save (the chip kept
	 * counting), IRQ 8 as register C says, and the timers. */
	rtc_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void rtc_pause(void *state, bool paused)
{
	struct rtc *r = state;
	pthread_mutex_lock(&r->lock);
	r->paused = paused;
	if (paused) {
		evtimer_cancel(r->update_timer);
		evtimer_cancel(r->periodic_timer);
		r->armed_update_s = NOT_ARMED;
		r->armed_pf = 0;
	} else {
		struct now now = rtc_read_clocks(r);
		rtc_sync(r, &now);
	}
	pthread_mutex_unlock(&r->lock);
}
