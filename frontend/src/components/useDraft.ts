import { useState } from 'react';

/**
 * Local text for an input that commits on blur: follows `value` when it changes from outside
 * (e.g. the query was replaced), otherwise keeps what the user is typing.
 */
export function useDraft(value: string): [string, (text: string) => void] {
  const [text, setText] = useState(value);
  const [seen, setSeen] = useState(value);
  if (value !== seen) {
    // Adjusting state while rendering, as React recommends instead of an effect.
    setSeen(value);
    setText(value);
  }
  return [text, setText];
}
