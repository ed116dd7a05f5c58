//! The sensor driver's logic: everything of the driver that ntwork covers,
//! and nothing that names a wdk-sys type, so it builds and runs its tests on
//! Linux (`tests/`, through `ntwork-host`). The kernel glue that calls it is
//! `sensor-shell` (`docs/driver-layout.md`).
//!
//! Each device samples a reading at every tick of a periodic timer, in the
//! timer's DPC (DISPATCH_LEVEL): [`dpc`] stores it in the device's ring and,
//! once [`DRAIN_THRESHOLD`] readings wait, queues the device's reusable drain
//! item, whose routine folds them into the device's [`Stats`] at
//! PASSIVE_LEVEL. A reading that finds the ring full is dropped and counted;
//! the DPC reports drops with an Ex work item allocated beforehand (the
//! spare), so the DPC itself never allocates.
//!
//! What the shell calls, and where:
//!
//! | entry point | IRQL | calls |
//! |---|---|---|
//! | DriverEntry | PASSIVE | [`driver_entry`] |
//! | AddDevice | PASSIVE | [`device_added`], keeps the [`Sensor`] in the device extension |
//! | the timer's DPC | DISPATCH | [`dpc`] |
//! | device teardown (timer cancelled, DPCs flushed) | PASSIVE | [`device_removed`], then `IoDeleteDevice` |
//! | DriverUnload | PASSIVE | ntwork's routine: waits for [`driver_entry`]'s rundown, runs [`unload`], then the shell's own |

#![no_std]

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use ntwork::ffi::NTSTATUS;
use ntwork::irql::{AtMostDispatch, Dispatch, Passive};
use ntwork::{
    DeviceObject, DriverObject, ExWorkItem, ReusableIoWorkItem, Rundown, SpinLock, WorkQueue,
    work_item,
};

/// Readings a device's ring holds; one more is dropped.
pub const RING_CAPACITY: usize = 16;

/// Readings waiting in the ring when the DPC queues the drain.
pub const DRAIN_THRESHOLD: usize = 8;

/// Counts the driver's Ex work (the overflow reports): opened in
/// [`driver_entry`]; ntwork's DriverUnload waits for it before [`unload`].
static WORK: Rundown = Rundown::new();

/// The next overflow report, allocated at PASSIVE_LEVEL ([`driver_entry`],
/// then each report's routine) so the DPC only takes it. A static is never
/// dropped: [`unload`] frees it, or the image goes with its pool block
/// allocated (Driver Verifier's 0xC4/0x62).
static SPARE_REPORT: SpinLock<Option<ExWorkItem<report_overflow>>> = SpinLock::new(None);

/// Readings dropped and reported, across devices, since [`driver_entry`].
static DROPPED_REPORTED: AtomicU64 = AtomicU64::new(0);

/// Overflow reports that ran since [`driver_entry`].
static REPORTS: AtomicU32 = AtomicU32::new(0);

/// What a device's readings came to, folded in at PASSIVE_LEVEL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Readings folded in.
    pub samples: u64,
    /// Their sum.
    pub sum: u64,
    /// The smallest (0 before the first).
    pub min: u32,
    /// The largest (0 before the first).
    pub max: u32,
    /// Drain runs that found readings.
    pub batches: u32,
    /// Readings dropped because the ring was full.
    pub dropped: u32,
}

impl Stats {
    fn fold(&mut self, readings: &[u32]) {
        if readings.is_empty() {
            return;
        }
        for &reading in readings {
            if self.samples == 0 {
                (self.min, self.max) = (reading, reading);
            }
            self.min = self.min.min(reading);
            self.max = self.max.max(reading);
            self.sum += u64::from(reading);
            self.samples += 1;
        }
        self.batches += 1;
    }
}

/// The readings the DPC left for the drain.
struct Ring {
    readings: [u32; RING_CAPACITY],
    len: usize,
    /// Set by [`device_removed`]: the DPC stores and queues nothing more.
    removed: bool,
}

/// A device's state: what AddDevice builds, kept in the device extension.
pub struct Sensor {
    ring: SpinLock<Ring>,
    stats: SpinLock<Stats>,
    drain: ReusableIoWorkItem<drain_readings>,
    dropped: AtomicU32,
    /// Dropped and not yet handed to a report.
    unreported: AtomicU32,
}

/// What [`dpc`] did with a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampled {
    /// In the ring; `drain_queued`: this reading queued the drain (else the
    /// ring is below the threshold, or a queued drain takes it too).
    Stored {
        /// Whether this call queued the drain.
        drain_queued: bool,
    },
    /// The ring was full; `reported`: this call queued the overflow report
    /// (else the spare was in use: the next report carries this drop).
    Dropped {
        /// Whether this call queued a report.
        reported: bool,
    },
    /// The device is being removed: nothing stored.
    Removed,
}

/// The drain, at PASSIVE_LEVEL on a system worker thread: everything the DPC
/// left in the ring, folded into the stats. Device-bound, so the queue
/// references the device (and with it the driver image) until it returns.
#[work_item(device)]
fn drain_readings(_device: &DeviceObject, sensor: Arc<Sensor>, irql: &mut Passive<'_>) {
    sensor.drain_ring(irql);
}

/// An overflow report, at PASSIVE_LEVEL: counts the drops, then allocates
/// the next spare (here, where an allocation may fail; the DPC only takes).
/// Ex work, counted in [`WORK`]: the unload waits for it.
#[work_item]
fn report_overflow(dropped: u32, irql: &mut Passive<'_>) {
    DROPPED_REPORTED.fetch_add(u64::from(dropped), Ordering::Relaxed);
    REPORTS.fetch_add(1, Ordering::Relaxed);
    // Low on pool: no spare; drops wait in their device's count until one is.
    if let Ok(next) = report_overflow::new(0, irql) {
        let old = SPARE_REPORT.lock(irql, |spare, _| spare.replace(next));
        drop(old);
    }
}

impl Sensor {
    /// Takes what the ring holds and folds it into the stats.
    fn drain_ring(&self, irql: &mut Passive<'_>) {
        let (readings, len) = self.ring.lock(irql, |ring, _| {
            let taken = (ring.readings, ring.len);
            ring.len = 0;
            taken
        });
        self.stats
            .lock(irql, |stats, _| stats.fold(&readings[..len]));
    }

    /// The device's stats so far. At IRQL <= DISPATCH_LEVEL.
    pub fn stats<P: AtMostDispatch>(&self, irql: &mut P) -> Stats {
        let mut stats = self.stats.lock(irql, |stats, _| *stats);
        stats.dropped = self.dropped.load(Ordering::Relaxed);
        stats
    }

    /// Readings in the ring, not yet drained. At IRQL <= DISPATCH_LEVEL.
    pub fn waiting<P: AtMostDispatch>(&self, irql: &mut P) -> usize {
        self.ring.lock(irql, |ring, _| ring.len)
    }

    /// Hands this device's unreported drops to the spare report, if it is
    /// free, and queues it.
    fn report_drops(&self, irql: &mut Dispatch<'_>) -> bool {
        let Some(mut report) = SPARE_REPORT.lock(irql, |spare, _| spare.take()) else {
            return false;
        };
        let dropped = self.unreported.swap(0, Ordering::AcqRel);
        *report.context_mut() = dropped;
        match report.queue(&WORK, WorkQueue::Delayed, irql) {
            Ok(()) => true,
            Err(refused) => {
                // The driver is unloading (its rundown waited): no spare is
                // kept from here on, and the drops stay counted.
                self.unreported.fetch_add(dropped, Ordering::AcqRel);
                drop(refused.into_inner());
                false
            }
        }
    }
}

/// DriverEntry's part: ntwork's DriverUnload (which waits for [`WORK`], then
/// runs [`unload`], then the DriverUnload the shell set before this call),
/// the rundown, and the first spare report. The spare is allocated first:
/// without pool, nothing is registered.
///
/// # Errors
///
/// `STATUS_INSUFFICIENT_RESOURCES` without pool for the spare or ntwork's
/// driver-object extension; what `set_unload` and `Rundown::open` refuse
/// with. Either way nothing is queued and the spare is freed.
pub fn driver_entry(driver: &DriverObject, irql: &mut Passive<'_>) -> Result<(), NTSTATUS> {
    // A new image has fresh statics; on the host every test loads anew.
    DROPPED_REPORTED.store(0, Ordering::Relaxed);
    REPORTS.store(0, Ordering::Relaxed);
    let spare = report_overflow::new(0, irql)?;
    driver.set_unload(unload, irql)?;
    WORK.open(driver, irql)?;
    let old = SPARE_REPORT.lock(irql, |slot, _| slot.replace(spare));
    drop(old);
    Ok(())
}

/// AddDevice's part: the device's state and its reusable drain item
/// (`IoAllocateWorkItem`, which references `device` until the [`Sensor`] is
/// dropped). `device` is the functional device object the driver created.
///
/// # Errors
///
/// `STATUS_INSUFFICIENT_RESOURCES` on low resources.
pub fn device_added(device: &DeviceObject, irql: &Passive<'_>) -> Result<Arc<Sensor>, NTSTATUS> {
    Ok(Arc::new(Sensor {
        ring: SpinLock::new(Ring {
            readings: [0; RING_CAPACITY],
            len: 0,
            removed: false,
        }),
        stats: SpinLock::new(Stats::default()),
        drain: ReusableIoWorkItem::new(device, irql)?,
        dropped: AtomicU32::new(0),
        unreported: AtomicU32::new(0),
    }))
}

/// The DPC's part, at DISPATCH_LEVEL: store `reading`, or drop and report it.
/// The drain is queued under the ring's lock, so once [`device_removed`] has
/// marked the ring, no call queues it again.
pub fn dpc(sensor: &Arc<Sensor>, reading: u32, irql: &mut Dispatch<'_>) -> Sampled {
    // None: the device is removed; Some(None): the ring is full.
    let Some(stored) = sensor.ring.lock(irql, |ring, irql| {
        if ring.removed {
            return None;
        }
        if ring.len == RING_CAPACITY {
            Some(None)
        } else {
            ring.readings[ring.len] = reading;
            ring.len += 1;
            // A pending drain takes this reading too (`AlreadyQueued`).
            Some(Some(
                ring.len >= DRAIN_THRESHOLD
                    && sensor
                        .drain
                        .queue(Arc::clone(sensor), WorkQueue::Delayed, irql)
                        .is_ok(),
            ))
        }
    }) else {
        return Sampled::Removed;
    };
    match stored {
        Some(drain_queued) => Sampled::Stored { drain_queued },
        None => {
            sensor.dropped.fetch_add(1, Ordering::Relaxed);
            sensor.unreported.fetch_add(1, Ordering::AcqRel);
            Sampled::Dropped {
                reported: sensor.report_drops(irql),
            }
        }
    }
}

/// The device teardown's part, at PASSIVE_LEVEL, after the shell stopped the
/// DPC: no reading is stored from now on, the drain is flushed (neither
/// queued nor running when this returns), and the readings left below the
/// threshold are folded in. Returns the device's final stats; the `Sensor`
/// (its drain item, its reference on the device) goes with the last `Arc`,
/// normally this one, before `IoDeleteDevice`.
pub fn device_removed(sensor: Arc<Sensor>, irql: &mut Passive<'_>) -> Stats {
    sensor.ring.lock(irql, |ring, _| ring.removed = true);
    sensor.drain.flush(irql);
    sensor.drain_ring(irql);
    sensor.stats(irql)
}

/// The driver's own unload code, which ntwork's DriverUnload runs once every
/// report counted in [`WORK`] has returned: frees the spare report.
pub fn unload(_driver: &DriverObject, irql: &mut Passive<'_>) {
    let spare = SPARE_REPORT.lock(irql, |spare, _| spare.take());
    drop(spare);
}

/// Readings dropped and reported since [`driver_entry`], across devices.
pub fn dropped_readings_reported() -> u64 {
    DROPPED_REPORTED.load(Ordering::Relaxed)
}

/// Overflow reports that ran since [`driver_entry`].
pub fn overflow_reports() -> u32 {
    REPORTS.load(Ordering::Relaxed)
}
