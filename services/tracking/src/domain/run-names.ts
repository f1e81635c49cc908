import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'abundant', 'agreeable', 'amazing', 'auspicious', 'bedecked', 'bemused', 'blushing', 'bold', 'brawny',
  'bright', 'calm', 'capable', 'carefree', 'casual', 'chill', 'classy', 'clean', 'clumsy', 'colorful',
  'crawling', 'dapper', 'debonair', 'delicate', 'dashing', 'enchanting', 'entertaining', 'fearless',
  'funny', 'gaudy', 'gentle', 'gifted', 'glamorous', 'grandiose', 'gregarious', 'handsome', 'hilarious',
  'honorable', 'illustrious', 'incongruous', 'indecisive', 'industrious', 'intelligent', 'inquisitive',
  'judicious', 'kindly', 'languid', 'learned', 'legendary', 'likeable', 'loud', 'luminous', 'luxuriant',
  'lyrical', 'magnificent', 'marvelous', 'masked', 'melodic', 'merciful', 'mercurial', 'monumental',
  'mysterious', 'nebulous', 'nimble', 'nosy', 'omniscient', 'orderly', 'overjoyed', 'peaceful', 'painted',
  'persistent', 'placid', 'polite', 'popular', 'powerful', 'puzzled', 'rambunctious', 'rare', 'rebellious',
  'respected', 'resilient', 'righteous', 'receptive', 'redolent', 'resilient', 'rogue', 'rumbling',
  'salty', 'sassy', 'secretive', 'selective', 'sedate', 'serious', 'shivering', 'skillful', 'sincere',
  'skittish', 'silent', 'smiling', 'sneaky', 'sophisticated', 'spiffy', 'stately', 'suave', 'stylish',
  'tasteful', 'thoughtful', 'thundering', 'traveling', 'treasured', 'trusting', 'unequaled', 'upbeat',
  'unique', 'unleashed', 'useful', 'upset', 'valuable', 'vaunted', 'victorious', 'welcoming', 'whimsical',
  'wistful', 'wise', 'worried', 'youthful', 'zealous',
];

const ANIMALS = [
  'ant', 'ape', 'asp', 'auk', 'bass', 'bat', 'bear', 'bee', 'bird', 'boar', 'bug', 'calf', 'carp', 'cat',
  'chimp', 'cod', 'colt', 'conch', 'cow', 'crab', 'crane', 'croc', 'crow', 'cub', 'deer', 'doe', 'dog',
  'dolphin', 'donkey', 'dove', 'duck', 'eel', 'elk', 'fawn', 'finch', 'fish', 'flea', 'fly', 'foal', 'fowl',
  'fox', 'frog', 'gnat', 'gnu', 'goat', 'goose', 'grouse', 'grub', 'gull', 'hare', 'hawk', 'hen', 'hog',
  'horse', 'hound', 'jay', 'kit', 'kite', 'koi', 'lamb', 'lark', 'loon', 'lynx', 'mare', 'midge', 'mink',
  'mole', 'moose', 'moth', 'mouse', 'mule', 'newt', 'owl', 'ox', 'panda', 'penguin', 'perch', 'pig', 'pug',
  'quail', 'ram', 'rat', 'ray', 'robin', 'roo', 'rook', 'seal', 'shad', 'shark', 'sheep', 'shoat', 'shrew',
  'shrike', 'shrimp', 'skink', 'skunk', 'sloth', 'slug', 'smelt', 'snail', 'snake', 'snipe', 'sow', 'sponge',
  'squid', 'squirrel', 'stag', 'steed', 'stoat', 'stork', 'swan', 'tern', 'toad', 'trout', 'turtle', 'vole',
  'wasp', 'whale', 'wolf', 'worm', 'wren', 'yak', 'zebra',
];

/** A run name as MLflow generates one: `adjective-animal-NNN`. */
export function generateRunName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)];
  const animal = ANIMALS[randomInt(ANIMALS.length)];
  return `${adjective}-${animal}-${randomInt(1000)}`;
}
