// What the views share: the player and the signed-in user (set by main.js at start).
export const app = { player: null, user: null };
