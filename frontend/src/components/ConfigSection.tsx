import React, { ReactNode } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';

interface Props {
  title: string;
  description?: ReactNode;
  children: ReactNode;
}

/**
 * A titled group of settings with a short description, styled like `ConfigSection` from
 * @grafana/plugin-ui (which is not used, because its releases for Grafana 12 pull in large
 * dependencies and want Node 24).
 */
export function ConfigSection({ title, description, children }: Props) {
  const styles = useStyles2(getStyles);
  return (
    <section className={styles.section} aria-label={title}>
      <h3 className={styles.title}>{title}</h3>
      {description && <p className={styles.description}>{description}</p>}
      <div className={styles.content}>{children}</div>
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  section: css({
    marginBottom: theme.spacing(4),
    maxWidth: 720,
  }),
  title: css({
    margin: 0,
  }),
  description: css({
    ...theme.typography.bodySmall,
    color: theme.colors.text.secondary,
    marginTop: theme.spacing(0.5),
    marginBottom: 0,
  }),
  content: css({
    marginTop: theme.spacing(2),
  }),
});
