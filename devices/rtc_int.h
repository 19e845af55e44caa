/* The MC146818A RTC's state shared by its clock and register model (rtc.c) and its saved
 * state (rtc_state.c); nothing outside the two includes it. */
#ifndef OSIO_RTC_INT_H
#define OSIO_RTC_INT_H

#include "devices/rtc.h"

#include "devices/device.h"
#include "hypervisor/machine.h"
#include "hypervisor/vmstate.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define NSEC   1000000000ll
#define DAY_S  86400
#define UIP_NS 244000 /* UIP rises this long before each update (tBUC) */

#define REG_SEC	       0x00
#define REG_ALARM_SEC  0x01
#define REG_MIN	       0x02
#define REG_ALARM_MIN  0x03
#define REG_HOUR       0x04
#define REG_ALARM_HOUR 0x05
#define REG_WDAY       0x06
#define REG_MDAY       0x07
#define REG_MON	       0x08
#define REG_YEAR       0x09
#define REG_A	       0x0a
#define REG_B	       0x0b
#define REG_C	       0x0c
#define REG_D	       0x0d

#define A_UIP	   0x80
#define A_DV_RESET 0x60 /* DV2-DV1 = 11: divider chain held in reset */
#define A_RS	   0x0f
#define B_SET	   0x80
#define B_PIE	   0x40
#define B_AIE	   0x20
#define B_UIE	   0x10
#define B_SQWE	   0x08
#define B_DM	   0x04 /* binary, not BCD */
#define B_24H	   0x02 /* 24-hour, not 12-hour with bit 7 = PM */
#define B_DSE	   0x01 /* daylight saving: stored, not applied (see below) */
#define C_IRQF	   0x80
#define C_PF	   0x40
#define C_AF	   0x20
#define C_UF	   0x10
#define D_VRT	   0x80

#define NOT_ARMED INT64_MIN
/* RTC seconds and offsets a saved state may hold: years 0-9999 need about
 * 2^38 s either way; beyond 2^40 a file is damaged. */
#define SAVED_SECONDS_MAX (1ll << 40)

/* The clock counts "RTC seconds": seconds since 1970-01-01 00:00 in the
 * civil time the registers show (UTC, or the host's local time). While it
 * runs, its time is the host clock plus an offset (whole seconds and a
 * fraction, so that any year the registers can hold fits), so it keeps the
 * host's pace; a guest that sets the clock moves the offset. While it is
 * stopped (SET, or the divider in reset) the time lives in the registers
 * themselves, as in the chip.
 *
 * DSE (daylight saving) is stored but not applied, like most emulators do: the
 * chip's 1980s US rule is wrong nearly everywhere now, and a guest that keeps
 * local time asks for clock=localtime instead, which follows the host's zone
 * including its daylight saving. */
struct rtc {
	struct machine *m;
	pthread_mutex_t lock;
	uint16_t base;
	unsigned irq;
	struct irq_line line;
	bool localtime;
	uint8_t cmos[128]; /* registers and RAM; the time bytes count only while stopped */
	uint8_t index;	   /* last index written to base+0 */
	bool nmi_masked;
	bool stopped;	     /* time held in cmos[] */
	bool wday_written;   /* the guest set the day of week while stopped */
	int64_t offset_s;    /* while running: RTC time = host time + offset */
	int64_t offset_frac; /* ...its nanoseconds, 0 to NSEC - 1 */
	int wday_adjust;     /* 0-6: day-of-week register minus the date's weekday */
	int64_t synced_s;    /* last RTC second whose update has been accounted for */
	uint64_t pf_anchor;  /* monotonic ns from which periodic ticks count */
	uint64_t pf_count;   /* periodic ticks accounted for */
	bool irq_level;
	struct evtimer *update_timer, *periodic_timer;
	int64_t armed_update_s; /* second whose start the update timer waits for */
	uint64_t armed_pf;	/* tick the periodic timer waits for (0: none) */
	bool paused;		/* timers off, IRQ 8 held as it is */
};

struct now {
	int64_t host_ns; /* host clock in the RTC's civil time */
	uint64_t mono;	 /* clock_ns() */
};

/* The host's clocks now, in the RTC's civil time. */
struct now rtc_read_clocks(const struct rtc *r);
/* Brings register C's flags, IRQ 8 and the timers up to now; caller holds the lock. */
void rtc_sync(struct rtc *r, const struct now *now);

/* The device model's saved state (rtc_state.c). */
void rtc_save(void *state, struct vmstate_out *out);
int rtc_load(void *state, struct vmstate_section *in);
void rtc_pause(void *state, bool paused);

#endif
