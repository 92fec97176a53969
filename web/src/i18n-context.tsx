import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { isMessageKey, MESSAGES, STORAGE_KEY, pickLanguage, translate, type Lang, type MessageKey, type Vars } from "./lib/i18n";

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Vars): string;
  /// `t(key)` for a key that comes from data (a role name), or `fallback` when no file has it.
  tOr(key: string, fallback: string, vars?: Vars): string;
}

const Ctx = createContext<I18n | null>(null);

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() =>
    pickLanguage(storedLanguage(), navigator.languages?.length ? navigator.languages : [navigator.language]),
  );
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch {
      // private mode: the choice lasts for this page only
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(MESSAGES, lang, "app.title");
  }, [lang]);
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang,
      t: (key, vars) => translate(MESSAGES, lang, key, vars),
      tOr: (key, fallback, vars) => (isMessageKey(key) ? translate(MESSAGES, lang, key, vars) : fallback),
    }),
    [lang, setLang],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error("useI18n outside I18nProvider");
  return v;
}
