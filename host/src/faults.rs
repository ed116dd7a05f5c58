//! Fault injection: Driver Verifier's Low Resources Simulation, on demand.

/// Where [`Executive::fail_allocations`](crate::Executive::fail_allocations)
/// injects failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultSite {
    /// `IoAllocateWorkItem` returns `NULL`.
    IoAllocateWorkItem,
    /// Nonpaged pool allocations (`pool::allocate`, and so every safe item's
    /// memory) return `NULL`.
    Pool,
    /// `IoTryQueueWorkItem` returns `FALSE`: nothing queued, no reference kept.
    TryQueue,
    /// `IoCreateDevice` returns `STATUS_INSUFFICIENT_RESOURCES` (the object
    /// manager found no pool for the object) and creates nothing.
    IoCreateDevice,
}

/// Which calls at a [`FaultSite`] fail. Setting a plan restarts its counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailurePlan {
    /// The next `n` calls fail, then calls succeed again.
    Next(u32),
    /// Every `n`th call fails (the `n`th, `2n`th, ...); `EveryNth(0)` never fails.
    EveryNth(u32),
    /// Only the `n`th call fails (the first is 1): an allocation in the middle
    /// of a sequence, such as AddDevice's second work item. `Nth(0)` never
    /// fails.
    Nth(u32),
    /// No call fails (the default).
    Never,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    plan: FailurePlan,
    /// Calls made at the site since the plan was set.
    calls: u64,
    /// Failures left for `Next`.
    remaining: u32,
}

impl Plan {
    const NEVER: Plan = Plan {
        plan: FailurePlan::Never,
        calls: 0,
        remaining: 0,
    };
}

/// The plans of one executive.
#[derive(Debug)]
pub(crate) struct Faults {
    plans: [Plan; 4],
}

impl Faults {
    pub(crate) const fn new() -> Self {
        Self {
            plans: [Plan::NEVER; 4],
        }
    }

    fn index(site: FaultSite) -> usize {
        match site {
            FaultSite::IoAllocateWorkItem => 0,
            FaultSite::Pool => 1,
            FaultSite::TryQueue => 2,
            FaultSite::IoCreateDevice => 3,
        }
    }

    pub(crate) fn set(&mut self, site: FaultSite, plan: FailurePlan) {
        let remaining = match plan {
            FailurePlan::Next(n) => n,
            _ => 0,
        };
        self.plans[Self::index(site)] = Plan {
            plan,
            calls: 0,
            remaining,
        };
    }

    /// Counts one call at `site`; whether it must fail.
    pub(crate) fn should_fail(&mut self, site: FaultSite) -> bool {
        let plan = &mut self.plans[Self::index(site)];
        plan.calls = plan.calls.wrapping_add(1);
        match plan.plan {
            FailurePlan::Never => false,
            FailurePlan::Next(_) => {
                if plan.remaining > 0 {
                    plan.remaining -= 1;
                    true
                } else {
                    false
                }
            }
            FailurePlan::EveryNth(0) => false,
            FailurePlan::EveryNth(n) => plan.calls.is_multiple_of(u64::from(n)),
            FailurePlan::Nth(n) => plan.calls == u64::from(n),
        }
    }
}
