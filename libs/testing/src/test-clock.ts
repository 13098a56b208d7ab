/** The clock tests drive by hand (libs/runtime's ManualClock), under the name tests look for. */
export { ManualClock as TestClock, ManualClock } from '@arcwatch/runtime';
