export { type AllInOne, buildAllInOne } from './all-in-one.js';
