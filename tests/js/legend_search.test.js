/* node --test tests/js: the legend's search, assets/legend_search.js: which classes a
 * query keeps and which one Enter pins, on CIFAR-100's and EMNIST's class names. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const search = require("../../fracdash/web/assets/legend_search.js");

const CIFAR = [
  "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
  "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
  "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
  "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
  "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
  "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
  "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
  "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
  "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
  "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
  "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
  "willow_tree", "wolf", "woman", "worm",
];
const EMNIST = [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", ..."abdefghnqrt"];

/* A seeded generator, for queries cut from the names themselves. */
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test("a query keeps exactly the names holding it, in any case", () => {
  assert.equal(CIFAR.length, 100);
  assert.deepEqual(search.matching(CIFAR, "tree").map((i) => CIFAR[i]),
                   ["maple_tree", "oak_tree", "palm_tree", "pine_tree", "streetcar",
                    "willow_tree"]);  // stREETcar holds it too
  assert.deepEqual(search.matching(CIFAR, "  TREE "), search.matching(CIFAR, "tree"));
  assert.deepEqual(search.matching(CIFAR, ""), CIFAR.map((_, i) => i));
  assert.deepEqual(search.matching(CIFAR, "zebra"), []);
  const rand = rng(7);
  for (let t = 0; t < 200; t++) {  // every cut of a name keeps that name, never a non-holder
    const name = CIFAR[Math.floor(rand() * CIFAR.length)];
    const a = Math.floor(rand() * name.length);
    const q = name.slice(a, a + 1 + Math.floor(rand() * 4));
    const kept = search.matching(CIFAR, q.toUpperCase());
    assert.ok(kept.includes(CIFAR.indexOf(name)), q);
    for (const i of kept) assert.ok(CIFAR[i].includes(q), `${CIFAR[i]} ∌ ${q}`);
    assert.equal(kept.length, CIFAR.filter((n) => n.includes(q)).length);
  }
});

test("Enter pins the whole name, else the first that starts with it, else holds it", () => {
  assert.equal(CIFAR[search.bestMatch(CIFAR, "oak_tree")], "oak_tree");
  assert.equal(CIFAR[search.bestMatch(CIFAR, "Oak_Tree")], "oak_tree");
  assert.equal(CIFAR[search.bestMatch(CIFAR, "be")], "bear");  // not "bed", nor "baby"
  assert.equal(CIFAR[search.bestMatch(CIFAR, "bee")], "bee");  // whole beats "beetle"
  assert.equal(CIFAR[search.bestMatch(CIFAR, "tree")], "maple_tree");  // none starts so
  assert.equal(CIFAR[search.bestMatch(CIFAR, "ar")], "aquarium_fish");
  assert.equal(search.bestMatch(CIFAR, "zebra"), null);
  assert.equal(search.bestMatch(CIFAR, "   "), null);
  for (const [i, name] of CIFAR.entries()) assert.equal(search.bestMatch(CIFAR, name), i);
});

test("EMNIST's a and A are two classes: the case typed decides", () => {
  assert.equal(EMNIST.length, 47);
  assert.equal(EMNIST[search.bestMatch(EMNIST, "a")], "a");
  assert.equal(EMNIST[search.bestMatch(EMNIST, "A")], "A");
  assert.equal(EMNIST[search.bestMatch(EMNIST, "c")], "C");  // no lowercase c: any case
  assert.deepEqual(search.matching(EMNIST, "a").map((i) => EMNIST[i]), ["A", "a"]);
  for (const [i, name] of EMNIST.entries()) assert.equal(search.bestMatch(EMNIST, name), i);
});
